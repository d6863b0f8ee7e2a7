from closecsv.cli import main

main()
