from teletherapy.cli import main

main()
