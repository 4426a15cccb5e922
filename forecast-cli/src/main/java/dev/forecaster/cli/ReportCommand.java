package dev.forecaster.cli;

import dev.forecaster.avro.DeadLetter;
import dev.forecaster.avro.Evaluation;
import dev.forecaster.avro.Forecast;
import dev.forecaster.avro.ModelUpdate;
import dev.forecaster.schemas.AvroCodec;
import dev.forecaster.schemas.Codecs;
import dev.forecaster.schemas.Topics;
import dev.forecaster.trainer.BoundedRead;
import dev.forecaster.trainer.ModelRegistry;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code forecast report}: the demo's report, from what the topics hold now. */
@Command(
    name = "report",
    mixinStandardHelpOptions = true,
    description =
        "Reads the forecasts, evaluations, dead-letter and models topics up to their current end"
            + " and writes the HTML report: actual vs forecast, error over time, model version in"
            + " service, accuracy against persistence.")
final class ReportCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Mixin KafkaOptions kafka;

  @Option(
      names = "--output",
      defaultValue = "out/report.html",
      description = "HTML file (default: ${DEFAULT-VALUE}).")
  Path output;

  @Option(
      names = "--from",
      paramLabel = "DAY",
      description = "First target day the report covers (default: each series' first evaluation).")
  LocalDate from;

  @Option(
      names = "--readings-topic",
      defaultValue = Topics.Defaults.READINGS,
      description = "(default: ${DEFAULT-VALUE})")
  String readingsTopic;

  @Option(
      names = "--forecasts-topic",
      defaultValue = Topics.Defaults.FORECASTS,
      description = "(default: ${DEFAULT-VALUE})")
  String forecastsTopic;

  @Option(
      names = "--evaluations-topic",
      defaultValue = Topics.Defaults.EVALUATIONS,
      description = "(default: ${DEFAULT-VALUE})")
  String evaluationsTopic;

  @Option(
      names = "--dead-letters-topic",
      defaultValue = Topics.Defaults.DEAD_LETTERS,
      description = "(default: ${DEFAULT-VALUE})")
  String deadLettersTopic;

  @Option(
      names = "--models-topic",
      defaultValue = Topics.Defaults.MODELS,
      description = "(default: ${DEFAULT-VALUE})")
  String modelsTopic;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    Topics.requireExisting(
        kafka.clientProperties(),
        List.of(readingsTopic, forecastsTopic, evaluationsTopic, deadLettersTopic, modelsTopic),
        KafkaOptions.CHECK_TIMEOUT);
    // evaluations first: a forecast is written before its evaluation, so the forecasts read after
    // them hold nearly every one's forecast while the job runs (not those gone with retention, nor
    // one committed in the same checkpoint whose commit came later; the report counts those too)
    List<Evaluation> evaluations = read(evaluationsTopic, Codecs.EVALUATION);
    List<Forecast> forecasts = read(forecastsTopic, Codecs.FORECAST);
    List<DeadLetter> deadLetters = read(deadLettersTopic, Codecs.DEAD_LETTER);
    long readings = count(readingsTopic);
    Map<String, LocalDate> liveFrom = new LinkedHashMap<>();
    for (Evaluation e : evaluations) {
      LocalDate first = from != null ? from : e.getTargetDay();
      liveFrom.merge(e.getSeriesId(), first, (a, b) -> a.isBefore(b) ? a : b);
    }
    Map<String, String> models = new LinkedHashMap<>();
    for (ModelUpdate u : new ModelRegistry(kafka.clientProperties(), modelsTopic).readAll()) {
      Map<String, Double> m = u.getBacktestMetrics();
      models.put(
          u.getModelName() + " v" + u.getVersion(),
          String.format(
              "%s v%d (%s): backtest MAE %.3f vs persistence %.3f on %.0f windows",
              u.getModelName(),
              u.getVersion(),
              u.getArchitecture(),
              m.getOrDefault("mae", Double.NaN),
              m.getOrDefault("persistenceMae", Double.NaN),
              m.getOrDefault("testWindows", Double.NaN)));
    }
    Report.writeHtml(
        output,
        new ReportData(readings, forecasts, evaluations, deadLetters, models, liveFrom, List.of()));
    out.printf(
        "%d forecasts, %d evaluations of %d series, %d dead letters, %d model versions%nreport:"
            + " %s%n",
        forecasts.size(),
        evaluations.size(),
        liveFrom.size(),
        deadLetters.size(),
        models.size(),
        output.toAbsolutePath());
    out.flush();
    return 0;
  }

  private <T extends SpecificRecord> List<T> read(String topic, AvroCodec<T> codec) {
    List<T> records = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer = consumer()) {
      BoundedRead.untilEndOffsets(
          consumer,
          topic,
          Duration.ofSeconds(30),
          r -> {
            try {
              records.add(codec.decode(r.value()));
            } catch (Exception e) {
              // not part of the report
            }
          });
    }
    return records;
  }

  private long count(String topic) {
    try (KafkaConsumer<byte[], byte[]> consumer = consumer()) {
      var partitions =
          consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
              .map(p -> new TopicPartition(topic, p.partition()))
              .toList();
      var end = consumer.endOffsets(partitions);
      var begin = consumer.beginningOffsets(partitions);
      return partitions.stream().mapToLong(tp -> end.get(tp) - begin.get(tp)).sum();
    }
  }

  private KafkaConsumer<byte[], byte[]> consumer() {
    Properties p = new Properties();
    p.putAll(kafka.clientProperties());
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }
}
