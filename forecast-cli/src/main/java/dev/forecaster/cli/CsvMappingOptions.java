package dev.forecaster.cli;

import dev.forecaster.schemas.csv.BadRowPolicy;
import dev.forecaster.schemas.csv.ColumnMapping;
import dev.forecaster.schemas.csv.CsvReadingReader;
import dev.forecaster.schemas.csv.DatasetPreset;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The flags that say how a daily CSV maps to readings, shared by every command that reads one
 * ({@code replay}, {@code train}, {@code demo}). A preset fills them all; any flag overrides it.
 */
public final class CsvMappingOptions {

  /** System property that points at the project's folder (the {@code forecast} script sets it). */
  public static final String HOME_PROPERTY = "forecaster.home";

  @Spec(Spec.Target.MIXEE)
  CommandSpec spec;

  @Option(
      names = "--csv",
      paramLabel = "PATH",
      description =
          "CSV file with a header row (default with a preset: the shipped file under data/).")
  Path csv;

  @Option(
      names = "--preset",
      paramLabel = "NAME",
      description = "Column mapping of a shipped dataset: weather or stock.")
  String preset;

  @Option(
      names = "--series-column",
      paramLabel = "COL",
      description = "Column holding the series id (a file with several series).")
  String seriesColumn;

  @Option(
      names = "--series-id",
      paramLabel = "ID",
      description = "Fixed series id for every row (one file per series).")
  String seriesId;

  @Option(names = "--time-column", paramLabel = "COL", description = "Column holding the day.")
  String timeColumn;

  @Option(
      names = "--date-format",
      paramLabel = "PATTERN",
      description = "Day format, java.time pattern (default: ${DEFAULT-VALUE}).",
      defaultValue = ColumnMapping.ISO_DATE)
  String dateFormat;

  @Option(
      names = "--delimiter",
      paramLabel = "CHAR",
      description = "Column separator: a character, or 'tab' (default: ,).")
  String delimiter;

  @Option(
      names = "--features",
      paramLabel = "A,B,C",
      split = ",",
      description = "Numeric feature columns.")
  List<String> features;

  @Option(
      names = "--domain",
      paramLabel = "NAME",
      description = "Source domain written on each reading, e.g. weather or stock.")
  String domain;

  @Option(
      names = "--on-bad-row",
      paramLabel = "skip|fail",
      description =
          "A row that cannot be read is reported and skipped, or stops the run (default:"
              + " ${DEFAULT-VALUE}).",
      defaultValue = "skip")
  String onBadRow;

  /** The preset named by {@code --preset}, or null. */
  public String preset() {
    return preset;
  }

  /** The feature columns given by {@code --features}, or null. */
  public List<String> features() {
    return features;
  }

  /** The domain given by {@code --domain}, or null. */
  public String domain() {
    return domain;
  }

  /** The mapping: the preset's, with every given flag applied on top. */
  public ColumnMapping mapping() {
    if (seriesColumn != null && seriesId != null) {
      throw usage("give --series-column or --series-id, not both");
    }
    try {
      ColumnMapping mapping;
      if (preset != null) {
        mapping = DatasetPreset.named(preset).mapping();
      } else {
        if (timeColumn == null || features == null || (seriesColumn == null && seriesId == null)) {
          throw usage(
              "without --preset, give --time-column, --features and --series-column or"
                  + " --series-id");
        }
        mapping =
            seriesId != null
                ? ColumnMapping.fixedSeries(seriesId, timeColumn, dateFormat, features, domain)
                : ColumnMapping.seriesFromColumn(
                    seriesColumn, timeColumn, dateFormat, features, domain);
      }
      if (seriesColumn != null) {
        mapping = mapping.withSeriesColumn(seriesColumn);
      }
      if (seriesId != null) {
        mapping = mapping.withSeriesId(seriesId);
      }
      if (timeColumn != null || !ColumnMapping.ISO_DATE.equals(dateFormat)) {
        mapping =
            mapping.withTimeColumn(
                timeColumn != null ? timeColumn : mapping.timeColumn(), dateFormat);
      }
      if (features != null) {
        mapping = mapping.withFeatureColumns(features);
      }
      if (domain != null) {
        mapping = mapping.withDomain(domain);
      }
      if (delimiter != null) {
        String d = delimiter.equalsIgnoreCase("tab") ? "\t" : delimiter;
        if (d.length() != 1) {
          throw usage("--delimiter takes one character or 'tab', not '" + delimiter + "'");
        }
        mapping = mapping.withDelimiter(d.charAt(0));
      }
      return mapping;
    } catch (IllegalArgumentException e) {
      throw usage(e.getMessage());
    }
  }

  /** The CSV to read: {@code --csv}, or the preset's shipped file. */
  public Path csv() {
    Path file = csv;
    if (file == null) {
      if (preset == null) {
        throw usage("give --csv PATH (or --preset to read a shipped dataset)");
      }
      file = dataDir().resolve(DatasetPreset.named(preset).shippedFile());
    }
    if (!Files.isReadable(file)) {
      throw usage("cannot read " + file.toAbsolutePath());
    }
    return file;
  }

  public BadRowPolicy badRowPolicy() {
    try {
      return BadRowPolicy.valueOf(onBadRow.strip().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw usage("--on-bad-row takes skip or fail, not '" + onBadRow + "'");
    }
  }

  public CsvReadingReader reader() {
    return new CsvReadingReader(mapping(), badRowPolicy());
  }

  /** System property that points at the shipped datasets directly (tests set it). */
  public static final String DATA_PROPERTY = "forecaster.data.dir";

  /** The project's {@code data/} folder. */
  public static Path dataDir() {
    String data = System.getProperty(DATA_PROPERTY);
    return data != null
        ? Path.of(data)
        : Path.of(System.getProperty(HOME_PROPERTY, ".")).resolve("data");
  }

  private ParameterException usage(String message) {
    return new ParameterException(spec.commandLine(), message);
  }
}
