package dev.forecaster.cli;

import dev.forecaster.avro.Evaluation;
import dev.forecaster.avro.Forecast;
import dev.forecaster.model.Conformal;
import dev.forecaster.schemas.Codecs;
import dev.forecaster.schemas.Topics;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code forecast tail}: forecasts and evaluations as they are committed, one readable line each.
 */
@Command(
    name = "tail",
    mixinStandardHelpOptions = true,
    description =
        "Follows the forecasts and evaluations topics (read_committed) and prints each record as a"
            + " line, until Ctrl-C or --max records.")
final class TailCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Mixin KafkaOptions kafka;

  @Option(
      names = "--forecasts-topic",
      defaultValue = Topics.Defaults.FORECASTS,
      description = "(default: ${DEFAULT-VALUE})")
  String forecasts;

  @Option(
      names = "--evaluations-topic",
      defaultValue = Topics.Defaults.EVALUATIONS,
      description = "(default: ${DEFAULT-VALUE})")
  String evaluations;

  @Option(
      names = "--from-beginning",
      description = "Start at the beginning of the topics, not at their end.")
  boolean fromBeginning;

  @Option(
      names = "--max",
      paramLabel = "N",
      defaultValue = "0",
      description = "Stop after N records; 0 follows until Ctrl-C.")
  long max;

  /** The interval levels whose running coverage an evaluation line shows. */
  private static final List<Double> LEVELS = Conformal.LEVELS;

  /**
   * Per model version and horizon: evaluations seen, then inside and with an interval per level.
   */
  private final Map<String, long[]> running = new HashMap<>();

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    Topics.requireExisting(
        kafka.clientProperties(), List.of(forecasts, evaluations), KafkaOptions.CHECK_TIMEOUT);
    Properties p = new Properties();
    p.putAll(kafka.clientProperties());
    p.put(ConsumerConfig.GROUP_ID_CONFIG, "forecast-tail-" + ProcessHandle.current().pid());
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, fromBeginning ? "earliest" : "latest");
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    long seen = 0;
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      consumer.subscribe(List.of(forecasts, evaluations));
      while (max == 0 || seen < max) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          out.println(line(r));
          seen++;
          if (max > 0 && seen >= max) {
            break;
          }
        }
        out.flush();
      }
    }
    return 0;
  }

  private String line(ConsumerRecord<byte[], byte[]> r) {
    try {
      if (r.topic().equals(forecasts)) {
        Forecast f = Codecs.FORECAST.decode(r.value());
        return String.format(
            "forecast   %-10s %s -> %s h=%d  %s %.3f%s  (%s v%d)",
            f.getSeriesId(),
            f.getBaseDay(),
            f.getTargetDay(),
            f.getHorizon(),
            f.getTarget(),
            f.getValue(),
            f.getIntervals().stream()
                .map(
                    i ->
                        String.format(
                            " %.0f%% [%.3f, %.3f]", i.getLevel() * 100, i.getLower(), i.getUpper()))
                .collect(Collectors.joining()),
            f.getModelName(),
            f.getModelVersion());
      }
      Evaluation e = Codecs.EVALUATION.decode(r.value());
      String key = e.getModelName() + " v" + e.getModelVersion() + " h=" + e.getHorizon();
      long[] tally = running.computeIfAbsent(key, k -> new long[1 + 2 * LEVELS.size()]);
      tally[0]++;
      for (var i : e.getIntervals()) {
        int at = LEVELS.indexOf(i.getLevel());
        if (at >= 0) {
          tally[1 + 2 * at] += i.getInside() ? 1 : 0;
          tally[2 + 2 * at]++;
        }
      }
      StringBuilder coverage = new StringBuilder();
      for (int k = 0; k < LEVELS.size(); k++) {
        if (tally[2 + 2 * k] > 0) {
          coverage.append(
              String.format(
                  " %.0f%%:%.0f%%",
                  LEVELS.get(k) * 100, 100.0 * tally[1 + 2 * k] / tally[2 + 2 * k]));
        }
      }
      return String.format(
          "evaluation %-10s %s h=%d  %s predicted %.3f actual %.3f error %+.3f persistence %s%s"
              + "  (%s; inside so far%s of %d)",
          e.getSeriesId(),
          e.getTargetDay(),
          e.getHorizon(),
          e.getTarget(),
          e.getPredicted(),
          e.getActual(),
          e.getError(),
          e.getPersistenceError() == null ? "-" : String.format("%+.3f", e.getPersistenceError()),
          e.getIntervals().stream()
              .map(
                  i ->
                      String.format(" %.0f%% %s", i.getLevel() * 100, i.getInside() ? "in" : "out"))
              .collect(Collectors.joining()),
          key,
          coverage.length() == 0 ? " -" : coverage,
          tally[0]);
    } catch (Exception e) {
      return "unreadable record at "
          + r.topic()
          + "-"
          + r.partition()
          + "@"
          + r.offset()
          + ": "
          + e.getMessage();
    }
  }
}
