from osiris_tui.cli import main

raise SystemExit(main())
