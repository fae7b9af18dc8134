package dev.amalgam.cli;

import picocli.CommandLine.Option;

/** The {@code --server} option of every command that talks to a running registry. */
class ServerOption {
    @Option(names = "--server", paramLabel = "URL",
            description = "Registry URL (default: $AMALGAM_SERVER or http://localhost:8080).")
    String server;
}
