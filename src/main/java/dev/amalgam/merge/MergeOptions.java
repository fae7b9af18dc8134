package dev.amalgam.merge;

import dev.amalgam.safetensors.SafetensorsWriter;

/**
 * Run options that never change the output bytes: thread count and shard size. The seed is
 * here only as the fallback when the recipe has no {@code random_seed}.
 */
public record MergeOptions(int threads, long shardSize, long defaultSeed) {
    public MergeOptions {
        if (threads < 1) throw new IllegalArgumentException("threads must be at least 1");
        if (shardSize < 1) throw new IllegalArgumentException("shard size must be positive");
    }

    public static MergeOptions defaults() {
        return new MergeOptions(Runtime.getRuntime().availableProcessors(), SafetensorsWriter.DEFAULT_SHARD_SIZE, 0L);
    }

    public MergeOptions withThreads(int n) {
        return new MergeOptions(n, shardSize, defaultSeed);
    }

    public MergeOptions withShardSize(long size) {
        return new MergeOptions(threads, size, defaultSeed);
    }
}
