from ttt_read.cli import main

main()
