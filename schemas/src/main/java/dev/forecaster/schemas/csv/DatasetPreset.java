package dev.forecaster.schemas.csv;

import java.util.List;
import java.util.Locale;

/** Column mappings of the two datasets the project ships in {@code data/}. */
public enum DatasetPreset {
  /** {@code data/seattle-weather.csv}: one row per day, the station in the location column. */
  WEATHER(
      ColumnMapping.seriesFromColumn(
          "location",
          "date",
          ColumnMapping.ISO_DATE,
          List.of("precipitation", "temp_max", "temp_min", "wind"),
          "weather"),
      "seattle-weather.csv"),
  /** {@code data/sp500-daily.csv}: daily bars of one index, trading days only. */
  STOCK(
      ColumnMapping.fixedSeries(
          "SP500",
          "date",
          ColumnMapping.ISO_DATE,
          List.of("open", "high", "low", "close", "adjclose", "volume"),
          "stock"),
      "sp500-daily.csv");

  private final ColumnMapping mapping;
  private final String shippedFile;

  DatasetPreset(ColumnMapping mapping, String shippedFile) {
    this.mapping = mapping;
    this.shippedFile = shippedFile;
  }

  public ColumnMapping mapping() {
    return mapping;
  }

  /** File name of the shipped dataset under the project's {@code data/} folder. */
  public String shippedFile() {
    return shippedFile;
  }

  /** Looks a preset up by its name in any case ({@code weather}, {@code STOCK}). */
  public static DatasetPreset named(String name) {
    try {
      return valueOf(name.strip().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "unknown preset '"
              + name
              + "'; known: "
              + List.of(values()).toString().toLowerCase(Locale.ROOT),
          e);
    }
  }
}
