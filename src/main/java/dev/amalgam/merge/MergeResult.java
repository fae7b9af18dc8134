package dev.amalgam.merge;

import java.nio.file.Path;
import java.util.List;

/** What a merge produced: the output folder, its files (relative names), the seed used and the engine. */
public record MergeResult(Path output, List<String> files, String method, long seed, String engineVersion,
                          String kernels, int tensors, long tensorBytes, List<String> inputs) {
}
