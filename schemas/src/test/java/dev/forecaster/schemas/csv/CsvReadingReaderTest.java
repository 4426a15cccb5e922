package dev.forecaster.schemas.csv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.forecaster.avro.Reading;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CsvReadingReaderTest {

  private static final Path DATA = Path.of(System.getProperty("forecaster.data.dir", "../data"));

  @TempDir Path dir;

  @Test
  void shippedWeatherFileGivesOneReadingPerDayForSeattle() throws IOException {
    List<Reading> readings = new ArrayList<>();
    CsvReadSummary summary =
        new CsvReadingReader(DatasetPreset.WEATHER.mapping(), BadRowPolicy.FAIL)
            .read(DATA.resolve(DatasetPreset.WEATHER.shippedFile()), readings::add);

    assertThat(summary.rows()).isEqualTo(1461);
    assertThat(summary.readings()).isEqualTo(1461);
    assertThat(summary.badRows()).isZero();
    assertThat(summary.readingsPerSeries()).containsExactly(Map.entry("Seattle", 1461L));
    assertThat(summary.firstDay()).isEqualTo(LocalDate.of(2012, 1, 1));
    assertThat(summary.lastDay()).isEqualTo(LocalDate.of(2015, 12, 31));
    Reading second = readings.get(1); // Seattle,2012-01-02,10.9,10.6,2.8,4.5,rain
    assertThat(second.getDay()).isEqualTo(LocalDate.of(2012, 1, 2));
    assertThat(second.getDomain()).isEqualTo("weather");
    assertThat(second.getFeatures())
        .containsExactly(
            Map.entry("precipitation", 10.9), Map.entry("temp_max", 10.6),
            Map.entry("temp_min", 2.8), Map.entry("wind", 4.5));
  }

  @Test
  void shippedStockFileIsOneSeriesWithAFixedId() throws IOException {
    List<Reading> readings =
        new CsvReadingReader(DatasetPreset.STOCK.mapping(), BadRowPolicy.FAIL)
            .readAll(DATA.resolve(DatasetPreset.STOCK.shippedFile()));

    assertThat(readings)
        .hasSize(5105)
        .allSatisfy(r -> assertThat(r.getSeriesId()).isEqualTo("SP500"));
    assertThat(readings.get(0).getDay()).isEqualTo(LocalDate.of(2000, 1, 3));
    assertThat(readings.get(0).getFeatures())
        .containsEntry("close", 1455.219971)
        .containsEntry("volume", 931800000.0);
    assertThat(readings.get(readings.size() - 1).getDay()).isEqualTo(LocalDate.of(2020, 4, 17));
  }

  @Test
  void longFormFileWithSeveralSeriesKeepsEachSeriesApart() throws IOException {
    Path file =
        csv(
            "station,day,tmax",
            "Oslo,2020-01-01,1.5",
            "Bergen,2020-01-01,4.0",
            "Oslo,2020-01-02,2.5",
            "Bergen,2020-01-02,5.0",
            "Oslo,2020-01-03,0.5");
    ColumnMapping mapping =
        ColumnMapping.seriesFromColumn(
            "station", "day", ColumnMapping.ISO_DATE, List.of("tmax"), "weather");

    CsvReadSummary summary = new CsvReadingReader(mapping, BadRowPolicy.FAIL).read(file, r -> {});

    assertThat(summary.readingsPerSeries())
        .containsExactly(Map.entry("Oslo", 3L), Map.entry("Bergen", 2L));
  }

  @Test
  void dayFormatIsConfigurableAndStrict() throws IOException {
    Path file = csv("Date,Close", "16/03/2015,2081.19", "30/02/2015,1.0");
    ColumnMapping mapping =
        ColumnMapping.fixedSeries("IDX", "Date", "dd/MM/yyyy", List.of("Close"), "stock");

    List<Reading> readings = new ArrayList<>();
    CsvReadSummary summary =
        new CsvReadingReader(mapping, BadRowPolicy.SKIP).read(file, readings::add);

    assertThat(readings).extracting(Reading::getDay).containsExactly(LocalDate.of(2015, 3, 16));
    assertThat(summary.badRowExamples())
        .containsExactly(
            new BadRow(file, 3, "bad date '30/02/2015' in column 'Date' (expected dd/MM/yyyy)"));
  }

  @Test
  void badRowsAreSkippedAndReportedWithFileAndLine() throws IOException {
    Path file =
        csv(
            "location,date,precipitation,temp_max,temp_min,wind,weather", // line 1
            "Seattle,2012-01-01,0.0,12.8,5.0,4.7,drizzle", // 2 ok
            "Seattle,2012-01-02,10.9,ten,2.8,4.5,rain", // 3 not a number
            "Seattle,2012-01-03,0.8,11.7,7.2", // 4 missing columns
            "", // 5 blank line: not a row, and line numbers stay exact
            "Seattle,2012-13-04,20.3,12.2,5.6,4.7,rain", // 6 bad date
            "Seattle,2012-01-05,1.3,NaN,2.8,6.1,rain", // 7 not finite
            "Seattle,2012-01-06,2.5,4.4,,2.2,rain", // 8 empty value
            ",2012-01-07,0.0,7.2,2.8,2.3,rain", // 9 empty series id
            "Seattle,2012-01-08,0.0,10.0,2.8,2.0,sun"); // 10 ok

    List<Reading> readings = new ArrayList<>();
    CsvReadSummary summary =
        new CsvReadingReader(DatasetPreset.WEATHER.mapping(), BadRowPolicy.SKIP)
            .read(file, readings::add);

    assertThat(readings)
        .extracting(Reading::getDay)
        .containsExactly(LocalDate.of(2012, 1, 1), LocalDate.of(2012, 1, 8));
    assertThat(summary.rows()).isEqualTo(8);
    assertThat(summary.readings() + summary.badRows()).isEqualTo(summary.rows());
    assertThat(summary.badRowExamples())
        .extracting(BadRow::line, BadRow::reason)
        .containsExactly(
            Tuple.tuple(3L, "not a number in column 'temp_max': 'ten'"),
            Tuple.tuple(4L, "has 5 cells, the header has 7"),
            Tuple.tuple(6L, "bad date '2012-13-04' in column 'date' (expected yyyy-MM-dd)"),
            Tuple.tuple(7L, "not a finite number in column 'temp_max': 'NaN'"),
            Tuple.tuple(8L, "empty value in column 'temp_min'"),
            Tuple.tuple(9L, "empty series id in column 'location'"));
    assertThat(summary.badRowExamples().get(0).toString())
        .isEqualTo(file + ":3: not a number in column 'temp_max': 'ten'");
  }

  @Test
  void failPolicyStopsAtTheFirstBadRowNamingFileAndLine() throws IOException {
    Path file = csv("date,close", "2020-01-02,3257.85", "2020-01-03,n/a", "2020-01-06,3246.28");
    ColumnMapping mapping =
        ColumnMapping.fixedSeries("SPX", "date", ColumnMapping.ISO_DATE, List.of("close"), "stock");
    List<Reading> readings = new ArrayList<>();

    assertThatThrownBy(
            () -> new CsvReadingReader(mapping, BadRowPolicy.FAIL).read(file, readings::add))
        .isInstanceOf(BadRowException.class)
        .hasMessage(file + ":3: not a number in column 'close': 'n/a'");
    assertThat(readings).hasSize(1);
  }

  @Test
  void aHeaderWithoutAMappedColumnFailsWhateverThePolicyAndListsTheColumns() throws IOException {
    Path file = csv("date,open,close", "2020-01-02,3244.67,3257.85");
    ColumnMapping mapping =
        ColumnMapping.fixedSeries(
            "SPX", "date", ColumnMapping.ISO_DATE, List.of("close", "volume"), "stock");

    assertThatThrownBy(() -> new CsvReadingReader(mapping, BadRowPolicy.SKIP).read(file, r -> {}))
        .isInstanceOf(BadRowException.class)
        .hasMessage(
            file + ":1: no column [volume] in the header; its columns are [date, open, close]");
  }

  @Test
  void aFileWithAnotherSeparatorReadsWithItsDelimiterAndOtherwiseSaysSo() throws IOException {
    Path file = csv("DATE;TMAX", "2021-01-03;5.5", "2021-01-04;\"6,0\"");
    ColumnMapping comma =
        ColumnMapping.fixedSeries("KSEA", "DATE", ColumnMapping.ISO_DATE, List.of("TMAX"), "");

    assertThatThrownBy(() -> new CsvReadingReader(comma, BadRowPolicy.FAIL).read(file, r -> {}))
        .hasMessageContaining("separated by another character than ','");
    CsvReadSummary summary =
        new CsvReadingReader(comma.withDelimiter(';'), BadRowPolicy.SKIP).read(file, r -> {});
    assertThat(summary.readings()).isEqualTo(1);
    assertThat(summary.badRowExamples())
        .extracting(BadRow::reason)
        .containsExactly("not a number in column 'TMAX': '6,0'");
  }

  @Test
  void aMappingNeedsExactlyOneSourceOfSeriesIdAndSomeFeatures() {
    assertThatThrownBy(
            () -> ColumnMapping.fixedSeries("x", "date", ColumnMapping.ISO_DATE, List.of(), ""))
        .hasMessageContaining("at least one feature");
    assertThatThrownBy(() -> DatasetPreset.WEATHER.mapping().withSeriesId(" "))
        .hasMessageContaining("blank");
    assertThatThrownBy(
            () -> ColumnMapping.fixedSeries("x", "date", "yyyy-MM-dd{", List.of("a"), ""))
        .hasMessageContaining("bad date format");
    assertThat(DatasetPreset.WEATHER.mapping().withSeriesId("KSEA").seriesColumn()).isNull();
    assertThat(DatasetPreset.named("Stock")).isEqualTo(DatasetPreset.STOCK);
  }

  private Path csv(String... lines) throws IOException {
    Path file = dir.resolve("input.csv");
    Files.write(file, List.of(lines));
    return file;
  }
}
