from gtoken.cli import main

raise SystemExit(main())
