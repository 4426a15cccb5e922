package dev.forecaster.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainCommandTest {

  @TempDir Path dir;

  private final CliRun cli = new CliRun();

  /**
   * {@code forecast train} with {@code args}, one member of two epochs and no publishing; it must
   * succeed. Returns its metrics JSON.
   */
  private JsonNode trainBriefly(String... args) throws IOException {
    List<String> all = new ArrayList<>(List.of("train"));
    all.addAll(List.of(args));
    all.addAll(
        List.of(
            "--no-publish",
            "--members",
            "1",
            "--epochs",
            "2",
            "--metrics-json",
            dir.resolve("m.json").toString()));
    int exit = cli.run(all.toArray(String[]::new));
    assertThat(exit).as(cli.err.toString()).isZero();
    return new ObjectMapper().readTree(dir.resolve("m.json").toFile());
  }

  /** The column mapping of {@link #stationCsv}, reading TMAX, TMIN, PRCP for TMAX, then more. */
  private String[] stationMapping(String... more) throws IOException {
    return stationMappingOf("TMAX,TMIN,PRCP", "TMAX", more);
  }

  /** The column mapping of {@link #stationCsv} with these features and target, then more. */
  private String[] stationMappingOf(String features, String target, String... more)
      throws IOException {
    List<String> args =
        new ArrayList<>(
            List.of(
                "--csv",
                stationCsv().toString(),
                "--delimiter",
                ";",
                "--series-id",
                "KSEA",
                "--time-column",
                "DATE",
                "--features",
                features,
                "--target",
                target));
    args.addAll(List.of(more));
    return args.toArray(String[]::new);
  }

  /** The first two years of the shipped weather, as a station file of another shape. */
  private Path stationCsv() throws IOException {
    Path shipped =
        Path.of(System.getProperty("forecaster.data.dir")).resolve("seattle-weather.csv");
    List<String> lines = Files.readAllLines(shipped).subList(0, 731);
    List<String> station = new ArrayList<>();
    station.add("DATE;TMAX;TMIN;PRCP");
    for (String line : lines.subList(1, lines.size())) {
      String[] c = line.split(",");
      station.add(String.join(";", c[1], c[3], c[4], c[2]));
    }
    Path file = dir.resolve("station.csv");
    Files.write(file, station);
    return file;
  }

  @Test
  void trainingWithoutABrokerReportsTheBacktestAndWritesJsonAndChart() throws IOException {
    Path csv = dir.resolve("weather.csv");
    List<String> lines =
        Files.readAllLines(
                Path.of(System.getProperty("forecaster.data.dir")).resolve("seattle-weather.csv"))
            .subList(0, 731);
    Files.write(csv, lines);

    int exit =
        cli.run(
            "train",
            "--preset",
            "weather",
            "--csv",
            csv.toString(),
            "--no-publish",
            "--members",
            "1",
            "--epochs",
            "3",
            "--hidden",
            "4",
            "--horizons",
            "2",
            "--test-from",
            "2013-10-01",
            "--metrics-json",
            dir.resolve("m.json").toString(),
            "--chart",
            dir.resolve("c.png").toString());

    assertThat(exit).as(cli.err.toString()).isZero();
    assertThat(cli.out.toString())
        .contains("persistence", "linear (OLS)", "not published (--no-publish)");
    JsonNode json = new ObjectMapper().readTree(dir.resolve("m.json").toFile());
    assertThat(json.get("testFrom").asText()).isEqualTo("2013-10-01");
    assertThat(json.get("testTo").asText()).isEqualTo("2013-12-30");
    assertThat(json.get("testWindows").asInt()).isEqualTo(91);
    assertThat(json.get("arch").asText()).isEqualTo("gru");
    for (String part : List.of("model", "persistence", "linear")) {
      assertThat(json.get(part).get("mae").asDouble()).as(part).isPositive();
      assertThat(json.get(part).has("rmse") && json.get(part).has("mape")).isTrue();
    }
    // intervals: served (rolling) and fixed coverage on the test windows, per horizon too
    assertThat(json.get("coverage").fieldNames()).toIterable().containsExactly("0.8", "0.95");
    assertThat(json.get("coverage").get("0.8").asDouble()).isBetween(0.0, 1.0);
    assertThat(json.get("coverageFixedAtValidation").has("0.95")).isTrue();
    assertThat(json.get("intervals")).hasSize(2);
    JsonNode h1 = json.get("byHorizon").get(0);
    assertThat(h1.get("horizon").asInt()).isEqualTo(1);
    assertThat(h1.get("mae").asDouble()).isEqualTo(json.get("model").get("mae").asDouble());
    assertThat(h1.get("persistenceMae").asDouble())
        .isEqualTo(json.get("persistence").get("mae").asDouble());
    assertThat(h1.get("coverage")).isEqualTo(json.get("coverage"));
    // the second horizon on its own windows: those whose target, two readings on, is tested
    JsonNode h2 = json.get("byHorizon").get(1);
    assertThat(json.get("byHorizon")).hasSize(2);
    assertThat(h2.get("horizon").asInt()).isEqualTo(2);
    assertThat(h2.get("windows").asInt()).isEqualTo(91);
    assertThat(h2.get("persistenceMae").asDouble())
        .isNotEqualTo(h1.get("persistenceMae").asDouble());
    assertThat(h2.get("linearMae").asDouble()).isPositive();
    assertThat(h2.get("coverage").fieldNames()).toIterable().containsExactly("0.8", "0.95");
    assertThat(json.get("coverageOverAllHorizons").get("0.8").asDouble())
        .isCloseTo(
            (h1.get("coverage").get("0.8").asDouble() + h2.get("coverage").get("0.8").asDouble())
                / 2,
            within(1e-9));
    assertThat(cli.out.toString()).contains("horizons 1..2", "by horizon", "h = 2");
    assertThat(cli.out.toString()).contains("intervals, test coverage as served");
    BufferedImage chart = ImageIO.read(dir.resolve("c.png").toFile());
    assertThat(chart.getWidth()).isEqualTo(1100);
    assertThat(chart.getHeight()).isEqualTo(840);
  }

  @Test
  void aStationThatJoinedAtAnotherLevelIsCountedWhereItGotPersistence() throws IOException {
    // two years of Seattle, and a station 80 degrees warmer that joined just before the test part;
    // the weather preset's level model (no search: it would serve persistence to both here)
    List<String> lines =
        Files.readAllLines(
                Path.of(System.getProperty("forecaster.data.dir")).resolve("seattle-weather.csv"))
            .subList(0, 731);
    List<String> rows = new ArrayList<>(lines);
    for (String line : lines.subList(1, lines.size())) {
      String[] c = line.split(",");
      if (c[1].compareTo("2013-08-20") >= 0) {
        c[0] = "Hot";
        c[3] = Double.toString(Double.parseDouble(c[3]) + 80);
        c[4] = Double.toString(Double.parseDouble(c[4]) + 80);
        rows.add(String.join(",", c));
      }
    }
    Path csv = dir.resolve("stations.csv");
    Files.write(csv, rows);

    JsonNode json =
        trainBriefly(
            "--preset",
            "weather",
            "--csv",
            csv.toString(),
            "--test-from",
            "2013-09-01",
            "--horizons",
            "1");
    int outside = json.get("testWindowsOutsideFittedLevels").asInt();
    // the new station's test windows, not Seattle's
    assertThat(outside).isPositive().isLessThan(json.get("testWindows").asInt());
    assertThat(cli.out.toString())
        .contains(outside + " of them persistence: windows lying whole far outside the levels");
  }

  @Test
  void anyDailyCsvTrainsThroughTheColumnMapping() throws IOException {
    JsonNode json = trainBriefly(stationMapping("--domain", "weather"));
    // the mapping alone: the form is chosen on the history before the test part
    assertThat(cli.out.toString())
        .contains("search:", "chosen:   ")
        .containsPattern("networks \\d+\\.\\d s of the 150\\.0 s budget \\(reference seconds\\)")
        .contains("inputs [TMAX, TMIN, PRCP]");
    assertThat(json.get("testWindows").asInt()).isEqualTo(145); // the last 20% of 723 windows
    // one station all along: no window outside the levels the model was fitted on
    assertThat(json.get("testWindowsOutsideFittedLevels").asInt()).isZero();
    assertThat(cli.out.toString()).doesNotContain("of them persistence");
    JsonNode selection = json.get("selection");
    // a network or least squares, whichever the validation origins favour on this short history,
    // and the console says which is served
    String stage = selection.get("chosen").get("stage").asText();
    assertThat(stage).isIn("network", "form");
    assertThat(json.get("form").get("served").asText())
        .isEqualTo(stage.equals("network") ? "gru" : "least squares");
    if (stage.equals("network")) {
      assertThat(cli.out.toString())
          .containsPattern("model:    TMAX, gru, window \\d+, horizon 1, hidden \\d+, 1 member")
          .contains("+highway (members' gate");
    } else {
      assertThat(cli.out.toString())
          .containsPattern("model:    TMAX, least squares, window \\d+, horizon 1, target TMAX")
          .doesNotContain("member(s)", "+highway");
    }
    assertThat(selection.get("candidates").size()).isGreaterThan(10);
    // what the networks tried cost of the budget, counted from their epochs, never 0
    assertThat(selection.get("referenceSeconds").asDouble()).isPositive();
    assertThat(selection.get("budgetSeconds").asDouble()).isEqualTo(150);
    // a daily temperature reverts to its seasonal mean: a level target needs no margin, and the
    // console says why
    assertThat(selection.get("dickeyFuller").asDouble()).isLessThan(-5);
    assertThat(selection.get("levelMargin").asDouble()).isZero();
    assertThat(selection.get("persistenceStandardErrors").asDouble()).isEqualTo(1);
    // where the target reverts, Hansen's test is reported, not applied: its form is served
    // whatever the p-value (0.25 with two epochs a network)
    assertThat(selection.get("superiorAbilityP").asDouble()).isGreaterThan(0.159).isLessThan(1);
    assertThat(cli.out.toString())
        .containsPattern(
            "the best of \\d+ forms tried against persistence, Hansen's test: p [<0-9. ]+,"
                + " (not )?below the level 0.159 \\(not applied: the target reverts to its"
                + " seasonal mean\\)\n");
    // one horizon, one fold: each final member trained once
    assertThat(selection.get("finalTrainings").asInt()).isEqualTo(1);
    assertThat(cli.out.toString())
        .contains(
            "a level target had to beat a change target by 0% and any model persistence by 1"
                + " standard error(s) (Dickey-Fuller statistic -")
        .contains(
            "the target reverts to its seasonal mean; a change target is not shifted; no simpler"
                + " form is preferred within noise but persistence)");
    assertThat(selection.get("candidates"))
        .filteredOn(c -> !c.get("transform").asText().equals("level"))
        .isNotEmpty()
        .noneMatch(c -> c.get("biasShift").asBoolean());
    assertThat(json.get("form").get("window").asInt())
        .isEqualTo(selection.get("chosen").get("window").asInt());
  }

  @Test
  void aBudgetOfZeroServesAClosedFormInSeconds() throws IOException {
    JsonNode json = trainBriefly(stationMapping("--budget", "0s"));
    JsonNode selection = json.get("selection");
    assertThat(selection.get("referenceSeconds").asDouble()).isZero();
    assertThat(selection.get("candidates"))
        .isNotEmpty()
        .noneMatch(c -> c.get("stage").asText().equals("network"));
    assertThat(selection.get("chosen").get("stage").asText()).isIn("form", "persistence");
    assertThat(cli.out.toString()).contains("closed forms only (a budget of 0)");

    // every other part of the search fixed by a flag: a budget of 0 still chooses among least
    // squares, the drift and persistence, and trains no network
    JsonNode fixed =
        trainBriefly(
            stationMapping(
                "--budget",
                "0s",
                "--target-transform",
                "change",
                "--no-calendar",
                "--no-weekday",
                "--window",
                "7",
                "--hidden",
                "4",
                "--ridge",
                "0.1",
                "--no-bias-correction"));
    assertThat(fixed.get("selection").get("candidates"))
        .extracting(c -> c.get("stage").asText())
        .contains("form", "persistence")
        .doesNotContain("network");
  }

  @Test
  void aGeneratedSeriesTrainsWithARollingOriginBacktestOfTwoFolds() throws IOException {
    Path csv = dir.resolve("walk.csv");
    assertThat(
            cli.run(
                "generate",
                "--kind",
                "random-walk",
                "--days",
                "600",
                "--seed",
                "4",
                "--output",
                csv.toString()))
        .as(cli.err.toString())
        .isZero();

    int exit =
        cli.run(
            "train",
            "--csv",
            csv.toString(),
            "--series-column",
            "series",
            "--time-column",
            "date",
            "--features",
            "value,aux",
            "--target",
            "value",
            "--no-publish",
            "--members",
            "1",
            "--epochs",
            "3",
            "--hidden",
            "4",
            "--folds",
            "2",
            "--chart",
            dir.resolve("walk.png").toString(),
            "--metrics-json",
            dir.resolve("m.json").toString());

    assertThat(exit).as(cli.err.toString()).isZero();
    JsonNode json = new ObjectMapper().readTree(dir.resolve("m.json").toFile());
    JsonNode folds = json.get("folds");
    assertThat(folds).hasSize(2);
    assertThat(folds.get(0).get("windows").asInt() + folds.get(1).get("windows").asInt())
        .isEqualTo(json.get("testWindows").asInt());
    assertThat(folds.get(1).get("testFrom").asText())
        .isGreaterThan(folds.get(0).get("testTo").asText());
    for (String part : List.of("model", "persistence", "linear")) {
      assertThat(json.get(part).get("mae").asDouble()).as(part).isPositive();
      assertThat(json.get(part).get("mase").asDouble()).as(part).isPositive();
      assertThat(json.get(part).has("smape")).isTrue();
    }
    assertThat(json.get("seasonalNaive").isNull()).as("a random walk has no season").isTrue();
    // nothing beat no change on the origins: persistence is served, and said to be, exactly
    assertThat(json.get("selection").get("chosen").get("stage").asText()).isEqualTo("persistence");
    assertThat(json.get("form").get("served").asText()).isEqualTo("persistence");
    assertThat(cli.out.toString())
        .contains("model:    ", ", persistence, horizon 1, target ")
        .contains("persistence: every forecast is the last reading")
        .doesNotContain("member(s)", "+highway");
    // no network trained: the chart is the forecast alone, without an empty loss panel
    assertThat(ImageIO.read(dir.resolve("walk.png").toFile()).getHeight()).isEqualTo(420);
    assertThat(json.get("model").get("mae").asDouble())
        .isEqualTo(json.get("persistence").get("mae").asDouble());
  }

  @Test
  void aTargetTheModelDoesNotReadIsAUsageError() throws IOException {
    List<String> args = new ArrayList<>(List.of("train"));
    args.addAll(List.of(stationMappingOf("TMAX,TMIN", "PRCP", "--no-publish")));
    int exit = cli.run(args.toArray(String[]::new));

    assertThat(exit).isEqualTo(2);
    assertThat(cli.err.toString())
        .contains("the target 'PRCP' must be one of the features [TMAX, TMIN]");
  }

  @Test
  void publishingWithoutABrokerNamesTheAddressTried() throws IOException {
    int exit =
        cli.run(
            "train",
            "--preset",
            "stock",
            "--bootstrap-servers",
            "127.0.0.1:1",
            "--kafka-property",
            "default.api.timeout.ms=2000",
            "--kafka-property",
            "request.timeout.ms=1000",
            "--epochs",
            "1");

    assertThat(exit).isNotZero();
    assertThat(cli.err.toString()).contains("127.0.0.1:1");
  }
}
