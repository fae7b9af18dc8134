package dev.amalgam.cli;

import dev.amalgam.scan.Finding;
import dev.amalgam.scan.ScanReport;
import dev.amalgam.scan.Scanner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code amalgam scan PATH... [--json]}: exit 0 clean, 1 findings, 2 could not scan (fail closed). */
@Command(name = "scan", mixinStandardHelpOptions = true,
        description = {"Statically scan model files (pickle, PyTorch zip, safetensors, NumPy, GGUF, repository content).",
                "Nothing is loaded or executed. Exit 0 clean, 1 findings, 2 could not scan."})
final class ScanCommand implements Callable<Integer> {
    @Parameters(paramLabel = "PATH", arity = "1..*", description = "Files or folders (scanned recursively).")
    List<Path> paths;

    @Option(names = "--json", description = "Print the report as JSON (schema in docs/security.md).")
    boolean json;

    @Override
    public Integer call() throws Exception {
        List<String> files = new ArrayList<>();
        List<Finding> findings = new ArrayList<>();
        for (Path p : paths) {
            if (!Files.exists(p)) throw new CliException(CliException.UNUSABLE, "no such file or folder: " + p);
            // files are named by the path as given (a folder's files relative to it when it is the only path)
            boolean alone = paths.size() == 1 && Files.isDirectory(p);
            ScanReport r = Scanner.scan(p, alone ? null : p.toString());
            files.addAll(r.files());
            findings.addAll(r.findings());
        }
        ScanReport all = new ScanReport(files, findings);
        if (json) {
            System.out.println(all.toJson().toPrettyString());
        } else {
            findings.forEach(System.out::println);
            System.out.println(all.verdict().name().toLowerCase().replace('_', ' ') + ": " + files.size() + " files, "
                    + findings.size() + " findings");
        }
        return all.exitCode();
    }
}
