package dev.forecaster.bench;

import ai.djl.Device;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.forecaster.avro.ModelUpdate;
import dev.forecaster.avro.Reading;
import dev.forecaster.cli.CsvMappingOptions;
import dev.forecaster.job.ForecastJob;
import dev.forecaster.job.JobConfig;
import dev.forecaster.model.History;
import dev.forecaster.model.LoadedModel;
import dev.forecaster.model.ModelArtifact;
import dev.forecaster.model.ModelArtifactException;
import dev.forecaster.model.ModelSpec;
import dev.forecaster.model.ModelUpdates;
import dev.forecaster.schemas.csv.BadRowPolicy;
import dev.forecaster.schemas.csv.CsvReadingReader;
import dev.forecaster.schemas.csv.DatasetPreset;
import dev.forecaster.trainer.ModelRegistry;
import dev.forecaster.trainer.TrainingRun;
import dev.forecaster.trainer.TrainingSettings;
import java.io.IOException;
import java.time.Clock;
import java.time.LocalDate;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.CommonClientConfigs;

/**
 * What the benchmarks share: real weather readings, a real model, a broker with the job's topics.
 */
final class BenchSupport {

  static final ObjectMapper JSON = new ObjectMapper();

  static final List<String> FEATURES = List.of("temp_max", "temp_min", "precipitation", "wind");

  /** The first day of the synthetic series. */
  static final LocalDate DAY_ZERO = LocalDate.of(2020, 1, 1);

  /** Brief training: the benchmarks measure speed, not accuracy. */
  static final TrainingSettings BRIEF =
      TrainingSettings.builder().epochs(3).learningRate(0.01).patience(0).build();

  private BenchSupport() {}

  static List<Reading> seattle() throws IOException {
    return new CsvReadingReader(DatasetPreset.WEATHER.mapping(), BadRowPolicy.FAIL)
        .readAll(CsvMappingOptions.dataDir().resolve(DatasetPreset.WEATHER.shippedFile()));
  }

  /** Readings per window of the reference network. */
  static final int REFERENCE_WINDOW = 6;

  /** The reference network: GRU, hidden 10, window 6, four raw features, no calendar. */
  static ModelSpec referenceSpec(String name) {
    return ModelSpec.builder()
        .name(name)
        .hiddenSize(10)
        .features(FEATURES)
        .target("temp_max")
        .windowLength(REFERENCE_WINDOW)
        .build();
  }

  /** Trains a network on Seattle briefly (no publishing); the caller closes the model. */
  static TrainingRun.Trained train(ModelSpec spec) throws IOException {
    return new TrainingRun(Clock.systemUTC())
        .train(
            History.ofFile(seattle()),
            TrainingRun.Request.backtest(spec, BRIEF, LocalDate.of(2015, 3, 16)),
            epoch -> {});
  }

  /** Trains the network briefly on Seattle and publishes it. */
  static void publishModel(String bootstrapServers, String topic, ModelSpec spec)
      throws IOException {
    ModelRegistry registry =
        new ModelRegistry(
            Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers), topic);
    new TrainingRun(Clock.systemUTC())
        .run(
            History.ofFile(seattle()),
            TrainingRun.Request.publish(spec, BRIEF, LocalDate.of(2015, 3, 16), registry).forced(),
            e -> {});
  }

  /** The same trained weights under another version number (their artifact says so too). */
  static ModelUpdate reversioned(ModelUpdate update, long version) {
    try (LoadedModel m = ModelUpdates.load(update, Device.cpu())) {
      ModelSpec s = m.spec().withVersion(version, System.currentTimeMillis());
      return ModelUpdates.of(s, ModelArtifact.write(m, s));
    } catch (ModelArtifactException e) {
      throw new IllegalStateException("cannot load " + update.getModelName(), e);
    }
  }

  /**
   * Reading {@code day} of synthetic series {@code s}: Seattle's weather, shifted by the series
   * number.
   */
  static Reading synthetic(List<Reading> seattle, int s, int day) {
    Reading source = seattle.get((s * 7 + day) % seattle.size());
    return Reading.newBuilder()
        .setSeriesId("station-" + s)
        .setDay(DAY_ZERO.plusDays(day))
        .setFeatures(source.getFeatures())
        .setDomain("weather")
        .build();
  }

  /**
   * The job's configuration for topics under a prefix, and those topics created as the job would.
   */
  static JobConfig topics(
      BenchBroker broker, String prefix, int partitions, Map<String, String> more) {
    Map<String, String> c = new LinkedHashMap<>();
    c.put("bootstrap.servers", broker.bootstrapServers());
    for (String t : List.of("readings", "forecasts", "evaluations", "models")) {
      c.put("topic." + t, prefix + "-" + t);
    }
    c.put("topic.dead-letters", prefix + "-readings.dlq");
    c.put("topic.partitions", Integer.toString(partitions)); // one partition per subtask
    c.put("group.id", prefix + "-job");
    c.put("transactional.id.prefix", prefix);
    c.put("model.name", "bench");
    c.put("parallelism", Integer.toString(partitions));
    c.put("transaction.timeout.ms", "300000");
    c.putAll(more);
    JobConfig config = JobConfig.of(c);
    ForecastJob.ensureTopics(config);
    return config;
  }
}
