from mailsim.cli import main

raise SystemExit(main())
