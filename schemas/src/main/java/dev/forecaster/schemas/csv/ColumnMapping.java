package dev.forecaster.schemas.csv;

import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.format.ResolverStyle;
import java.time.temporal.ChronoField;
import java.util.List;
import java.util.Objects;

/**
 * How the columns of a daily CSV become readings: where the series id comes from (a column, for a
 * long-form file with several series, or a fixed id, for one file per series), which column holds
 * the day and in which format, and which columns are the numeric features.
 */
public final class ColumnMapping {

  /** The default day format, {@code 2015-03-16}. */
  public static final String ISO_DATE = "yyyy-MM-dd";

  private final String seriesColumn;
  private final String seriesId;
  private final String timeColumn;
  private final String dateFormat;
  private final List<String> featureColumns;
  private final String domain;
  private final char delimiter;
  private final DateTimeFormatter formatter;

  private ColumnMapping(
      String seriesColumn,
      String seriesId,
      String timeColumn,
      String dateFormat,
      List<String> featureColumns,
      String domain,
      char delimiter) {
    if ((seriesColumn == null) == (seriesId == null)) {
      throw new IllegalArgumentException(
          "give either a series column or a fixed series id, not both or neither");
    }
    if (seriesId != null && seriesId.isBlank()) {
      throw new IllegalArgumentException("the fixed series id is blank");
    }
    this.seriesColumn = seriesColumn;
    this.seriesId = seriesId;
    this.timeColumn = requireText(timeColumn, "time column");
    this.dateFormat = requireText(dateFormat, "date format");
    this.featureColumns = List.copyOf(Objects.requireNonNull(featureColumns, "feature columns"));
    if (this.featureColumns.isEmpty()) {
      throw new IllegalArgumentException("name at least one feature column");
    }
    if (this.featureColumns.stream().distinct().count() != this.featureColumns.size()) {
      throw new IllegalArgumentException("a feature column is named twice: " + this.featureColumns);
    }
    this.domain = domain == null ? "" : domain;
    if (delimiter == '"' || delimiter == '\n' || delimiter == '\r') {
      throw new IllegalArgumentException("'" + delimiter + "' cannot separate columns");
    }
    this.delimiter = delimiter;
    this.formatter = formatterFor(this.dateFormat);
  }

  /** A long-form file: the series id is in {@code seriesColumn}. */
  public static ColumnMapping seriesFromColumn(
      String seriesColumn,
      String timeColumn,
      String dateFormat,
      List<String> featureColumns,
      String domain) {
    return new ColumnMapping(
        requireText(seriesColumn, "series column"),
        null,
        timeColumn,
        dateFormat,
        featureColumns,
        domain,
        ',');
  }

  /** One file per series: every row belongs to {@code seriesId}. */
  public static ColumnMapping fixedSeries(
      String seriesId,
      String timeColumn,
      String dateFormat,
      List<String> featureColumns,
      String domain) {
    return new ColumnMapping(
        null,
        Objects.requireNonNull(seriesId, "series id"),
        timeColumn,
        dateFormat,
        featureColumns,
        domain,
        ',');
  }

  /** The same mapping with another source of the series id (a CLI flag overriding a preset). */
  public ColumnMapping withSeriesColumn(String column) {
    return new ColumnMapping(
        requireText(column, "series column"),
        null,
        timeColumn,
        dateFormat,
        featureColumns,
        domain,
        delimiter);
  }

  public ColumnMapping withSeriesId(String id) {
    return new ColumnMapping(
        null,
        Objects.requireNonNull(id, "series id"),
        timeColumn,
        dateFormat,
        featureColumns,
        domain,
        delimiter);
  }

  public ColumnMapping withTimeColumn(String column, String format) {
    return new ColumnMapping(
        seriesColumn, seriesId, column, format, featureColumns, domain, delimiter);
  }

  public ColumnMapping withFeatureColumns(List<String> columns) {
    return new ColumnMapping(
        seriesColumn, seriesId, timeColumn, dateFormat, columns, domain, delimiter);
  }

  public ColumnMapping withDomain(String newDomain) {
    return new ColumnMapping(
        seriesColumn, seriesId, timeColumn, dateFormat, featureColumns, newDomain, delimiter);
  }

  /** The same mapping for a file whose columns are separated by another character (';', a tab). */
  public ColumnMapping withDelimiter(char newDelimiter) {
    return new ColumnMapping(
        seriesColumn, seriesId, timeColumn, dateFormat, featureColumns, domain, newDelimiter);
  }

  public char delimiter() {
    return delimiter;
  }

  /** The series column, or null when the id is fixed. */
  public String seriesColumn() {
    return seriesColumn;
  }

  /** The fixed series id, or null when it comes from a column. */
  public String seriesId() {
    return seriesId;
  }

  public String timeColumn() {
    return timeColumn;
  }

  public String dateFormat() {
    return dateFormat;
  }

  public List<String> featureColumns() {
    return featureColumns;
  }

  public String domain() {
    return domain;
  }

  /** Parses a day in this mapping's format, strictly (2015-02-30 is an error, not March 2nd). */
  public LocalDate parseDay(String text) throws DateTimeParseException {
    return LocalDate.parse(text.strip(), formatter);
  }

  private static DateTimeFormatter formatterFor(String pattern) {
    try {
      return new DateTimeFormatterBuilder()
          .appendPattern(pattern)
          // lets "yyyy" (year of era) resolve under the strict resolver
          .parseDefaulting(ChronoField.ERA, 1)
          .toFormatter()
          .withResolverStyle(ResolverStyle.STRICT);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("bad date format '" + pattern + "': " + e.getMessage(), e);
    }
  }

  private static String requireText(String value, String what) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException("the " + what + " is missing");
    }
    return value;
  }

  @Override
  public String toString() {
    return "ColumnMapping{"
        + (seriesColumn != null ? "seriesColumn=" + seriesColumn : "seriesId=" + seriesId)
        + ", time="
        + timeColumn
        + " ("
        + dateFormat
        + "), features="
        + featureColumns
        + ", domain="
        + domain
        + (delimiter != ',' ? ", delimiter='" + delimiter + "'" : "")
        + '}';
  }
}
