package dev.forecaster.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.forecaster.avro.Reading;
import dev.forecaster.model.History;
import dev.forecaster.model.ModelSpec;
import dev.forecaster.model.Samples;
import dev.forecaster.model.WindowPolicy;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The trainer and the job cut the same windows from the same readings: gaps (a weekend, longer
 * ones), a duplicate day, a late day, a reading with other features, an invalid value, and two
 * series interleaved. The job's windows go through its window operator; the trainer's through
 * {@link History} and {@link Samples}.
 */
class TrainServeWindowsTest {

  private static final List<String> FEATURES = List.of("temp_max", "wind");
  private static final LocalDate MON = LocalDate.of(2015, 3, 2);
  private static final ModelSpec SPEC =
      ModelSpec.builder()
          .name("weather")
          .features(FEATURES)
          .target("temp_max")
          .windowLength(4)
          .build();

  /** The window as both sides give it: series, base day, days, model feature values. */
  record Cut(String series, LocalDate baseDay, List<Integer> days, List<List<Double>> values) {}

  private static Reading reading(String series, int day, double temp, double wind) {
    return Reading.newBuilder()
        .setSeriesId(series)
        .setDay(MON.plusDays(day))
        .setFeatures(Map.of("temp_max", temp, "wind", wind))
        .setDomain("weather")
        .build();
  }

  /** Two stations, interleaved as a topic would deliver them, with every irregularity. */
  private static List<Reading> readings() {
    List<Reading> a = new ArrayList<>();
    for (int d : new int[] {0, 1, 2, 3, 4, 7, 8, 9, 10, 11, 20, 21, 22, 23, 24, 25, 26, 27}) {
      a.add(reading("KSEA", d, 10 + d, d % 3));
    }
    a.add(6, reading("KSEA", 8, 99, 99)); // a duplicate of day 8: the first stays
    a.add(9, reading("KSEA", 3, 98, 98)); // a late day
    a.add(
        13,
        Reading.newBuilder(reading("KSEA", 23, 0, 0)).setFeatures(Map.of("temp_max", 5.0)).build());
    a.add(
        16,
        reading("KSEA", 26, Double.NaN, 1)); // invalid: the job dead-letters it before the window
    List<Reading> b = new ArrayList<>();
    for (int d = 0; d < 15; d++) {
      if (d != 6) { // one missing day: within gap.max-days
        b.add(reading("KPDX", d, 5 + d, 1));
      }
    }
    List<Reading> all = new ArrayList<>();
    for (int i = 0; i < Math.max(a.size(), b.size()); i++) {
      if (i < a.size()) {
        all.add(a.get(i));
      }
      if (i < b.size()) {
        all.add(b.get(i));
      }
    }
    return all;
  }

  @ParameterizedTest
  @EnumSource(WindowPolicy.GapPolicy.class)
  void theSameReadingsGiveTheSameWindowsInTrainerAndJob(WindowPolicy.GapPolicy gapPolicy)
      throws Exception {
    JobConfig config =
        JobConfig.of(
            Map.of(
                "gap.policy", gapPolicy.toString(), "gap.max-days", "4", "model.name", "weather"));
    List<Reading> readings = readings();

    List<Cut> job = jobWindows(config, readings);
    List<Cut> trainer = new ArrayList<>();
    for (Samples.Window w : Samples.windows(History.of(readings), SPEC, config.windowPolicy())) {
      trainer.add(
          new Cut(
              w.seriesId(),
              w.baseDay(),
              Arrays.stream(w.epochDays()).map(d -> (int) (d - MON.toEpochDay())).boxed().toList(),
              Arrays.stream(w.values()).map(r -> Arrays.stream(r).boxed().toList()).toList()));
    }

    assertThat(trainer).isNotEmpty();
    assertThat(trainer).containsExactlyInAnyOrderElementsOf(job);
    // the irregularities are in play: a window over the weekend, none over the long gap
    assertThat(trainer).anyMatch(c -> c.days().equals(List.of(3, 4, 7, 8)));
    if (gapPolicy == WindowPolicy.GapPolicy.RESET) {
      assertThat(trainer).noneMatch(c -> c.days().contains(11) && c.days().contains(20));
    } else {
      assertThat(trainer).anyMatch(c -> c.days().equals(List.of(17, 18, 19, 20)));
    }
  }

  /** The job's scorable windows: the window operator's output, cut to the model's length. */
  private static List<Cut> jobWindows(JobConfig config, List<Reading> readings) throws Exception {
    List<Cut> cuts = new ArrayList<>();
    ReadingDecoder decoder = new ReadingDecoder(List.of(), WindowPolicy.DEFAULT_MAX_DAYS_AHEAD);
    try (var harness =
        new KeyedOneInputStreamOperatorTestHarness<String, ReadingEvent, WindowReady>(
            new KeyedProcessOperator<>(new SeriesWindowFunction(config)),
            event -> event.reading.getSeriesId(),
            Types.STRING)) {
      harness.open();
      long offset = 0;
      for (Reading r : readings) {
        if (decoder.problem(r) != null) {
          continue; // a dead letter of the decoder
        }
        harness.processElement(
            new ReadingEvent(r, "readings", 0, offset++), r.getDay().toEpochDay());
      }
      for (WindowReady w : harness.extractOutputValues()) {
        int n = SPEC.readingsPerWindow();
        List<String> names = Arrays.asList(w.featureNames);
        if (w.rows() < n || !names.containsAll(FEATURES)) {
          continue; // the scorer scores neither a short window nor one without the model's features
        }
        List<Integer> days = new ArrayList<>();
        List<List<Double>> values = new ArrayList<>();
        for (int r = w.rows() - n; r < w.rows(); r++) {
          days.add((int) (w.epochDays[r] - MON.toEpochDay()));
          List<Double> row = new ArrayList<>();
          for (String f : FEATURES) {
            row.add(w.values[r * w.featureNames.length + names.indexOf(f)]);
          }
          values.add(row);
        }
        cuts.add(
            new Cut(w.seriesId, LocalDate.ofEpochDay(w.epochDays[w.rows() - 1]), days, values));
      }
    }
    return cuts;
  }
}
