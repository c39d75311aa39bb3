from crm_migrate.cli import main

main()
