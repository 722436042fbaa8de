from csgw.cli.main import main

main()
