package dev.forecaster.schemas.csv;

import java.nio.file.Path;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;

/**
 * What a CSV read did: every data row is either a reading or a bad row, so {@code rows == readings
 * + badRows}.
 *
 * @param badRowExamples the first bad rows (at most {@link CsvReadingReader#MAX_EXAMPLES}); {@code
 *     badRows} counts all
 * @param readingsPerSeries readings emitted per series id, in order of first appearance
 */
public record CsvReadSummary(
    Path file,
    long rows,
    long readings,
    long badRows,
    List<BadRow> badRowExamples,
    Map<String, Long> readingsPerSeries,
    LocalDate firstDay,
    LocalDate lastDay) {}
