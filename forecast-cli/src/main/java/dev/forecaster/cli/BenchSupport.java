package dev.forecaster.cli;

import dev.forecaster.avro.Reading;
import dev.forecaster.model.Architecture;
import dev.forecaster.model.ModelSpec;
import dev.forecaster.model.ValueTransform;
import dev.forecaster.schemas.csv.BadRowPolicy;
import dev.forecaster.schemas.csv.CsvReadingReader;
import dev.forecaster.schemas.csv.DatasetPreset;
import dev.forecaster.trainer.CsvMappingOptions;
import dev.forecaster.trainer.History;
import dev.forecaster.trainer.ModelRegistry;
import dev.forecaster.trainer.TrainingRun;
import dev.forecaster.trainer.TrainingSettings;
import dev.forecaster.job.JobConfig;
import dev.forecaster.job.Topics;
import java.io.IOException;
import java.time.Clock;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.producer.KafkaProducer;

/** What the benchmarks share: real weather readings, a real model, a broker with the job's topics. */
final class BenchSupport {

  static final List<String> FEATURES = List.of("temp_max", "temp_min", "precipitation", "wind");

  private BenchSupport() {}

  static List<Reading> seattle() throws IOException {
    return new CsvReadingReader(DatasetPreset.WEATHER.mapping(), BadRowPolicy.FAIL)
        .readAll(CsvMappingOptions.dataDir().resolve(DatasetPreset.WEATHER.shippedFile()));
  }

  /** The reference network of the issue: GRU, hidden 10, window 6, four raw features. */
  static ModelSpec referenceSpec(String name, int members) {
    return new ModelSpec(name, 0, Architecture.GRU, 10, 1, 0f, members, FEATURES, false, ValueTransform.LEVEL,
        "temp_max", ValueTransform.LEVEL, 6, 1, null, null, null, null, 0);
  }

  /** Trains the reference network briefly on Seattle and publishes it. */
  static void publishModel(String bootstrapServers, String topic, ModelSpec spec) throws IOException {
    ModelRegistry registry = new ModelRegistry(
        Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers), topic);
    new TrainingRun(Clock.systemUTC()).run(History.of(seattle()), new TrainingRun.Request(spec,
        new TrainingSettings(3, 0.01, 32, 0, 42, "mse", 0, false), LocalDate.of(2015, 3, 16), registry, true, null),
        e -> { });
  }

  /** Reading {@code day} of synthetic series {@code s}: Seattle's weather, shifted by the series number. */
  static Reading synthetic(List<Reading> seattle, int s, int day) {
    Reading source = seattle.get((s * 7 + day) % seattle.size());
    return Reading.newBuilder().setSeriesId("station-" + s).setDay(LocalDate.of(2020, 1, 1).plusDays(day))
        .setFeatures(source.getFeatures()).setDomain("weather").build();
  }

  /** The job's configuration for topics under a prefix, and those topics created as the job would. */
  static JobConfig topics(BenchBroker broker, String prefix, int partitions, Map<String, String> more)
      throws Exception {
    Map<String, String> c = new java.util.LinkedHashMap<>();
    c.put("bootstrap.servers", broker.bootstrapServers());
    for (String t : List.of("readings", "forecasts", "evaluations", "models")) {
      c.put("topic." + t, prefix + "-" + t);
    }
    c.put("topic.dead-letters", prefix + "-readings.dlq");
    c.put("group.id", prefix + "-job");
    c.put("transactional.id.prefix", prefix);
    c.put("model.name", "bench");
    c.put("parallelism", Integer.toString(partitions));
    c.put("transaction.timeout.ms", "300000");
    c.putAll(more);
    JobConfig config = JobConfig.of(c);
    Topics.ensure(config); // one partition per subtask, models compacted
    return config;
  }
}
