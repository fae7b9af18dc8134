package dev.amalgam.cli;

import io.quarkus.runtime.annotations.QuarkusMain;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import dev.amalgam.BuildInfo;

/**
 * The one {@code amalgam} entry point. Only {@code serve} boots Quarkus; every other command is
 * plain Java that starts fast, never binds a port and never opens the database.
 */
@QuarkusMain
@Command(name = "amalgam",
        mixinStandardHelpOptions = true,
        versionProvider = BuildInfo.VersionProvider.class,
        description = "Audited, provenance-tracking registry for merged models.",
        subcommands = {
                ServeCommand.class,
                MergeCommand.class,
                RecipeCommand.class,
                SampleModelCommand.class,
                DamCommand.class,
                BenchCommand.class,
                DigestCommand.class,
                SignCommand.class,
                VerifyCommand.class,
                ScanCommand.class,
                TokenCommand.class,
                ModelsCommand.class,
                LineageCommand.class,
                MergesCommand.class,
                GateCommand.class,
                ReleaseCommand.class,
                AuditCommand.class,
                LedgerCommand.class,
                CommandLine.HelpCommand.class
        },
        footer = {"", "The launcher also runs the test suite: ./amalgam test"})
public final class Amalgam {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs a command line and returns its exit code; used by tests as well as {@link #main}. */
    public static int run(String... args) {
        return newCommandLine().execute(args);
    }

    static CommandLine newCommandLine() {
        CommandLine cl = new CommandLine(new Amalgam());
        cl.setExecutionExceptionHandler(new CliErrors());
        return cl;
    }
}
