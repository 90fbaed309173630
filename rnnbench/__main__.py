from rnnbench.cli import main

main()
