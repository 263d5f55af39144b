from imagetrail.cli.main import main

main()
