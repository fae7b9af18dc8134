package dev.amalgam.cli;

import io.quarkus.runtime.annotations.QuarkusMain;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import dev.amalgam.BuildInfo;

import java.io.PrintWriter;
import java.util.List;

/**
 * The one {@code amalgam} entry point. Only {@code serve} boots Quarkus; every other command is
 * plain Java that starts fast, never binds a port and never opens the database.
 */
@QuarkusMain
@Command(name = "amalgam",
        mixinStandardHelpOptions = true,
        versionProvider = BuildInfo.VersionProvider.class,
        description = "Audited, provenance-tracking registry for merged models.",
        footer = {"", "The launcher also runs the test suite: ./amalgam test"})
public final class Amalgam {

    /** Every subcommand, in the order the usage lists them. */
    private static final List<Class<?>> COMMANDS = List.of(
            ServeCommand.class,
            MergeCommand.class,
            RecipeCommand.class,
            SampleModelCommand.class,
            DamCommand.class,
            EvalCommand.class,
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
            AdminCommand.class,
            CommandLine.HelpCommand.class);

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs a command line and returns its exit code; used by tests as well as {@link #main}. */
    public static int run(String... args) {
        return run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
    }

    /**
     * Runs a command line printing to {@code out} and {@code err}. An unknown command is a usage
     * error (exit 2) even when help is asked for after it: picocli would print the top-level help
     * for {@code amalgam UNKNOWN --help} and exit 0.
     */
    static int run(PrintWriter out, PrintWriter err, String... args) {
        String first = args.length > 0 ? args[0] : null;
        CommandLine cl = newCommandLine(first);
        cl.setOut(out);
        cl.setErr(err);
        if (first != null && !first.startsWith("-") && !cl.getSubcommands().containsKey(first)) {
            err.println("amalgam: unknown command '" + first + "'; the commands are "
                    + String.join(", ", cl.getSubcommands().keySet()) + " (amalgam --help says what each does)");
            err.flush();
            return CommandLine.ExitCode.USAGE;
        }
        try {
            return cl.execute(args);
        } finally {
            out.flush();
            err.flush();
        }
    }

    /** The whole command tree. */
    public static CommandLine newCommandLine() {
        return newCommandLine("help");
    }

    /**
     * The command tree for a command line starting with {@code first}. When that names a
     * subcommand, only that one is built: picocli reflects over every option of every command it
     * is given, and loads their classes (a tenth of a second of start-up for the whole tree, more
     * on a busy machine). {@code help COMMAND} gets the whole tree. Anything else (top-level
     * {@code --help}, {@code --version}, no or an unknown command) gets each command as a summary
     * built from its {@code @Command} annotation alone, which is all the top-level usage shows.
     */
    static CommandLine newCommandLine(String first) {
        CommandLine cl = new CommandLine(new Amalgam());
        Class<?> only = null;
        for (Class<?> c : COMMANDS) {
            if (first != null && c.getAnnotation(Command.class).name().equals(first)) only = c;
        }
        boolean whole = only == CommandLine.HelpCommand.class;
        for (Class<?> c : COMMANDS) {
            if (whole) cl.addSubcommand(instantiate(c));
            else if (only == null) cl.addSubcommand(summary(c));
            else if (c == only) cl.addSubcommand(instantiate(c));
        }
        cl.setExecutionExceptionHandler(new CliErrors());
        return cl;
    }

    /** A command's name and description, for the top-level usage: no options reflected, nothing to run. */
    private static CommandLine summary(Class<?> c) {
        Command a = c.getAnnotation(Command.class);
        CommandSpec spec = CommandSpec.create().name(a.name()).aliases(a.aliases());
        spec.usageMessage().header(a.header()).description(a.description()).hidden(a.hidden());
        return new CommandLine(spec);
    }

    private static Object instantiate(Class<?> c) {
        try {
            var ctor = c.getDeclaredConstructor();
            ctor.setAccessible(true);
            return ctor.newInstance();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot create command " + c.getName(), e);
        }
    }
}
