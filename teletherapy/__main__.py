from teletherapy.entry import main

main()
