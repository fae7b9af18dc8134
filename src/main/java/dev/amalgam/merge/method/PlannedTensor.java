package dev.amalgam.merge.method;

import java.util.Map;

/**
 * What a method may check of one planned output tensor before any is computed: its name, output
 * shape, number of inputs and evaluated method-wide parameters.
 */
public record PlannedTensor(String name, long[] shape, int inputCount, Map<String, Object> globals) {
}
