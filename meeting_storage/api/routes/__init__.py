"""The REST API's endpoints, one APIRouter per group: health, meetings and recordings, costs."""
