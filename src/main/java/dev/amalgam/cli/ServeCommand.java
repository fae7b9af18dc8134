package dev.amalgam.cli;

import io.quarkus.runtime.Quarkus;
import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

/** {@code amalgam serve}: boots the Quarkus registry server. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Start the registry server (embedded defaults: ./amalgam-data, port 8080).")
final class ServeCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        Quarkus.run();
        return 0;
    }
}
