from relaykit.cli import main

main()
