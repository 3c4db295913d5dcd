from kaipai.cli import main

main()
