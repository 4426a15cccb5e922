package dev.forecaster.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.forecaster.avro.DeadLetter;
import dev.forecaster.avro.Evaluation;
import dev.forecaster.avro.Forecast;
import dev.forecaster.avro.ModelUpdate;
import dev.forecaster.avro.Reading;
import dev.forecaster.schemas.Codecs;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.CloseableIterator;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The pipeline's wiring on Flink's mini cluster without a broker: in-memory readings and models in,
 * the three outputs collected. Every stage runs (decode, window, batched scoring, evaluation, dead
 * letters); a model that comes after the first windows still forecasts every one of them.
 */
class ForecastPipelineTest {

  @RegisterExtension static final MiniClusterExtension FLINK = JobFixture.miniCluster(Map.of());

  private static final int WINDOW = TinyModels.WINDOW;

  @TempDir static Path checkpoints;

  /**
   * On the heap (Flink's default), and on RocksDB, which serializes every state on every access.
   */
  @ParameterizedTest(name = "state.backend={0}")
  @ValueSource(strings = {"", "rocksdb"})
  void readingsBecomeForecastsEvaluationsAndDeadLettersThroughEveryStage(String stateBackend)
      throws Exception {
    List<Reading> seattle = JobFixture.seattle(LocalDate.of(2013, 6, 1), LocalDate.of(2013, 7, 1));
    List<Reading> portland =
        seattle.stream().map(r -> Reading.newBuilder(r).setSeriesId("Portland").build()).toList();
    List<RawRecord> raw = new ArrayList<>();
    for (int i = 0; i < seattle.size(); i++) {
      raw.add(record(seattle.get(i), raw.size()));
      raw.add(record(portland.get(i), raw.size()));
    }
    raw.add(record(seattle.get(12), raw.size())); // late: older than Seattle's newest
    raw.add(record(portland.get(portland.size() - 1), raw.size())); // a duplicate of the newest day
    raw.add(
        record(
            Reading.newBuilder(seattle.get(3)).setFeatures(Map.of("temp_max", Double.NaN)).build(),
            raw.size()));
    raw.add(
        new RawRecord(
            "Seattle".getBytes(StandardCharsets.UTF_8),
            "not avro".getBytes(StandardCharsets.UTF_8),
            "readings",
            0,
            raw.size()));
    ModelUpdate model = TinyModels.update(42, 1);

    JobConfig config =
        JobConfig.of(
            Map.of(
                "model.name",
                TinyModels.NAME,
                "parallelism",
                "2",
                "checkpoint.interval.ms",
                "500",
                "state.backend",
                stateBackend,
                "checkpoint.dir",
                checkpoints.resolve("backend-" + stateBackend).toUri().toString()));
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    ForecastJob.configure(env, config);
    DataStream<RawRecord> readings = env.fromData(raw, TypeInformation.of(RawRecord.class));
    DataStream<ModelUpdate> models =
        env.fromData(List.of(model), new AvroTypeInfo<>(ModelUpdate.class));
    ForecastPipeline.Outputs out = ForecastPipeline.build(config, readings, models);
    CloseableIterator<Forecast> forecastsOut = out.forecasts().collectAsync();
    CloseableIterator<Evaluation> evaluationsOut = out.evaluations().collectAsync();
    CloseableIterator<DeadLetter> deadLettersOut = out.deadLetters().collectAsync();
    env.execute("pipeline wiring");
    List<Forecast> forecasts = drain(forecastsOut);
    List<Evaluation> evaluations = drain(evaluationsOut);
    List<DeadLetter> deadLetters = drain(deadLettersOut);

    for (List<Reading> series : List.of(seattle, portland)) {
      String id = series.get(0).getSeriesId();
      List<Forecast> mine =
          forecasts.stream()
              .filter(f -> f.getSeriesId().equals(id))
              .sorted((a, b) -> a.getBaseDay().compareTo(b.getBaseDay()))
              .toList();
      // one forecast per complete window, whenever the model arrived, each the model's own
      assertThat(mine).as(id).hasSize(series.size() - WINDOW + 1);
      List<List<Reading>> windows = new ArrayList<>();
      for (int end = WINDOW; end <= series.size(); end++) {
        windows.add(series.subList(0, end));
      }
      double[] offline = TinyModels.offline(model, windows);
      for (int i = 0; i < mine.size(); i++) {
        assertThat(mine.get(i).getBaseDay()).isEqualTo(series.get(WINDOW - 1 + i).getDay());
        assertThat(mine.get(i).getValue()).isCloseTo(offline[i], within(1e-4));
      }
      // each forecast that has its next day's reading is scored against it
      List<Evaluation> scored =
          evaluations.stream().filter(e -> e.getSeriesId().equals(id)).toList();
      assertThat(scored).hasSize(mine.size() - 1);
      assertThat(scored)
          .allSatisfy(
              e ->
                  assertThat(e.getError())
                      .isCloseTo(e.getPredicted() - e.getActual(), within(1e-9)));
    }
    assertThat(deadLetters)
        .extracting(DeadLetter::getCategory)
        .containsExactlyInAnyOrder("late", "duplicate", "invalid", "undecodable");
  }

  private static RawRecord record(Reading r, int offset) {
    return new RawRecord(
        r.getSeriesId().getBytes(StandardCharsets.UTF_8),
        Codecs.READING.encode(r),
        "readings",
        0,
        offset);
  }

  private static <T> List<T> drain(CloseableIterator<T> it) throws Exception {
    List<T> out = new ArrayList<>();
    try (it) {
      it.forEachRemaining(out::add);
    }
    return out;
  }
}
