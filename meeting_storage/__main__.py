from meeting_storage.cli.main import main

raise SystemExit(main())
