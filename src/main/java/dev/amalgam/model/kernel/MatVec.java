package dev.amalgam.model.kernel;

import dev.amalgam.safetensors.DType;

import java.lang.foreign.MemorySegment;

/**
 * Matrix-vector products over weights read in place from their mapped tensor bytes (BF16, F16 or
 * F32, row-major [rows, cols]) into F32: the hot loop of a batch-1 forward pass. Two
 * implementations, a scalar twin and a Vector API one, agree bit for bit: each row's dot product
 * runs in {@value #LANES} virtual lanes (element i into lane i mod {@value #LANES}, multiply then
 * add, never fused), the lanes are summed in lane order, and the elements past the last full
 * block are added one by one after that, whatever the hardware's vector width.
 */
public interface MatVec {
    /** Virtual lane count of a row's dot product: part of the results, never change it. */
    int LANES = 32;

    String name();

    /**
     * y[r] = Σᵢ W[r, i]·x[i] for rows r in [fromRow, toRow) of W ({@code cols} columns, of
     * {@code dtype}, starting at byte 0 of {@code w}).
     */
    void rows(MemorySegment w, DType dtype, int cols, float[] x, float[] y, int fromRow, int toRow);
}
