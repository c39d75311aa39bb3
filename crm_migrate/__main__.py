try:  # Ctrl-C while the modules load: the same one line as later, not a traceback
    from crm_migrate.cli import main
except KeyboardInterrupt:
    import sys

    sys.stderr.write("interrupted; nothing was written or replaced (the output folder is as it was)\n")
    raise SystemExit(130) from None

main()
