"""The dashboard's shared parts: the cached storage service, page components, formatting.

Together with app.py and pages/, this is the only code that imports streamlit; the
`meeting_storage` package never does. Data flows page -> ui -> MeetingStorage.
"""
