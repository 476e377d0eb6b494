from faultbook.cli.app import main

main()
