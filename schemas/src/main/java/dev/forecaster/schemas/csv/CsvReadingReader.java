package dev.forecaster.schemas.csv;

import dev.forecaster.avro.Reading;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.apache.commons.csv.DuplicateHeaderMode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a daily CSV with a header row into {@link Reading}s through a {@link ColumnMapping}. Every
 * data row becomes either a reading or a {@link BadRow} with file, line and reason; nothing is
 * dropped without a report. Blank lines are not rows.
 */
public final class CsvReadingReader {

  /** How many bad rows a summary keeps as examples (all are counted). */
  public static final int MAX_EXAMPLES = 100;

  private static final int MAX_LOGGED = 20;
  private static final Logger LOG = LoggerFactory.getLogger(CsvReadingReader.class);

  private static final CSVFormat FORMAT =
      CSVFormat.DEFAULT
          .builder()
          .setHeader()
          .setSkipHeaderRecord(true)
          .setIgnoreEmptyLines(false) // kept so that line numbers stay exact; skipped below
          .setTrim(true)
          .setDuplicateHeaderMode(DuplicateHeaderMode.DISALLOW)
          .get();

  private final ColumnMapping mapping;
  private final BadRowPolicy policy;

  public CsvReadingReader(ColumnMapping mapping, BadRowPolicy policy) {
    this.mapping = mapping;
    this.policy = policy;
  }

  /**
   * Reads the file, handing each reading to {@code sink} in file order.
   *
   * @throws BadRowException on a missing header column, unreadable CSV, or (policy FAIL) a bad row
   */
  public CsvReadSummary read(Path file, Consumer<Reading> sink) throws IOException {
    try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8);
        CSVParser parser = FORMAT.builder().setDelimiter(mapping.delimiter()).get().parse(in)) {
      requireColumns(file, parser.getHeaderNames());
      Tally tally = new Tally(file);
      Iterator<CSVRecord> records = parser.iterator();
      while (true) {
        long line = parser.getCurrentLineNumber() + 1; // where the next record starts
        CSVRecord record;
        try {
          if (!records.hasNext()) {
            break;
          }
          record = records.next();
        } catch (UncheckedIOException | IllegalStateException e) {
          throw new BadRowException(new BadRow(file, line, "unreadable CSV: " + rootMessage(e)), e);
        }
        if (record.size() == 1 && record.get(0).isEmpty()) {
          continue; // a blank line is not a row
        }
        tally.rows++;
        Object parsed = parse(record, parser.getHeaderNames().size());
        if (parsed instanceof Reading reading) {
          tally.accept(reading);
          sink.accept(reading);
        } else {
          BadRow bad = new BadRow(file, line, (String) parsed);
          if (policy == BadRowPolicy.FAIL) {
            throw new BadRowException(bad);
          }
          tally.reject(bad);
        }
      }
      return tally.summary();
    }
  }

  /** Reads the whole file into a list; see {@link #read(Path, Consumer)}. */
  public List<Reading> readAll(Path file) throws IOException {
    List<Reading> readings = new ArrayList<>();
    read(file, readings::add);
    return readings;
  }

  private void requireColumns(Path file, List<String> header) {
    List<String> required = new ArrayList<>();
    if (mapping.seriesColumn() != null) {
      required.add(mapping.seriesColumn());
    }
    required.add(mapping.timeColumn());
    required.addAll(mapping.featureColumns());
    List<String> missing = required.stream().filter(c -> !header.contains(c)).toList();
    if (!missing.isEmpty()) {
      String hint =
          header.size() == 1
              ? " (is the file separated by another character than '"
                  + mapping.delimiter()
                  + "'? see the delimiter option)"
              : "";
      throw new BadRowException(
          new BadRow(
              file,
              1,
              "no column " + missing + " in the header; its columns are " + header + hint));
    }
  }

  /** A Reading, or the reason the record is not one. */
  private Object parse(CSVRecord record, int headerSize) {
    if (record.size() != headerSize) {
      return "has " + record.size() + " cells, the header has " + headerSize;
    }
    String seriesId = mapping.seriesId();
    if (seriesId == null) {
      seriesId = record.get(mapping.seriesColumn());
      if (seriesId.isEmpty()) {
        return "empty series id in column '" + mapping.seriesColumn() + "'";
      }
    }
    String dayText = record.get(mapping.timeColumn());
    LocalDate day;
    try {
      day = mapping.parseDay(dayText);
    } catch (DateTimeParseException e) {
      return "bad date '"
          + dayText
          + "' in column '"
          + mapping.timeColumn()
          + "' (expected "
          + mapping.dateFormat()
          + ")";
    }
    Map<String, Double> features = new LinkedHashMap<>();
    for (String column : mapping.featureColumns()) {
      String text = record.get(column);
      if (text.isEmpty()) {
        return "empty value in column '" + column + "'";
      }
      double value;
      try {
        value = Double.parseDouble(text);
      } catch (NumberFormatException e) {
        return "not a number in column '" + column + "': '" + text + "'";
      }
      if (!Double.isFinite(value)) {
        return "not a finite number in column '" + column + "': '" + text + "'";
      }
      features.put(column, value);
    }
    return Reading.newBuilder()
        .setSeriesId(seriesId)
        .setDay(day)
        .setFeatures(features)
        .setDomain(mapping.domain())
        .build();
  }

  private static String rootMessage(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null) {
      root = root.getCause();
    }
    return root.getMessage();
  }

  private static final class Tally {
    final Path file;
    long rows;
    long readings;
    long badRows;
    final List<BadRow> examples = new ArrayList<>();
    final Map<String, Long> perSeries = new LinkedHashMap<>();
    LocalDate first;
    LocalDate last;

    Tally(Path file) {
      this.file = file;
    }

    void accept(Reading reading) {
      readings++;
      perSeries.merge(reading.getSeriesId(), 1L, Long::sum);
      LocalDate day = reading.getDay();
      first = first == null || day.isBefore(first) ? day : first;
      last = last == null || day.isAfter(last) ? day : last;
    }

    void reject(BadRow bad) {
      badRows++;
      if (examples.size() < MAX_EXAMPLES) {
        examples.add(bad);
      }
      if (badRows <= MAX_LOGGED) {
        LOG.warn("skipped bad row {}", bad);
      } else if (badRows == MAX_LOGGED + 1) {
        LOG.warn("more bad rows in {}; the summary counts them all", file);
      }
    }

    CsvReadSummary summary() {
      return new CsvReadSummary(
          file,
          rows,
          readings,
          badRows,
          List.copyOf(examples),
          Collections.unmodifiableMap(new LinkedHashMap<>(perSeries)),
          first,
          last);
    }
  }
}
