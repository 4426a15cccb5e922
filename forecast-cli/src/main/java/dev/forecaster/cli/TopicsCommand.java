package dev.forecaster.cli;

import dev.forecaster.schemas.Topics;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code forecast topics}: creates the project's topics as they are defined, and says which. */
@Command(
    name = "topics",
    mixinStandardHelpOptions = true,
    description = {
      "Creates the topics the job, the trainer and the commands use, each with its partitions and"
          + " settings (models compacted), unless it exists; prints each with what it was created"
          + " with.",
      "The job and every command create what they need the same way; run this first where "
          + "clients may not create topics (docker-compose's kafka-init does)."
    })
final class TopicsCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Mixin KafkaOptions kafka;

  @Option(
      names = "--partitions",
      defaultValue = "" + Topics.DEFAULT_PARTITIONS,
      description = "Partitions of every topic but models (default: ${DEFAULT-VALUE}).")
  int partitions;

  @Option(
      names = "--name",
      paramLabel = "TOPIC=NAME",
      description =
          "Another name for a topic, e.g. --name readings=station-readings; topics: readings,"
              + " forecasts, evaluations, dead-letters, models. Repeatable.")
  Map<String, String> names = new LinkedHashMap<>();

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    if (partitions < 1) {
      throw new ParameterException(spec.commandLine(), "--partitions must be at least 1");
    }
    Map<Topics, String> topics = new EnumMap<>(Topics.defaultNames());
    names.forEach((role, name) -> topics.put(role(role), name));
    List<String> created =
        Topics.ensure(kafka.clientProperties(), topics, partitions, Duration.ofSeconds(30));
    topics.forEach(
        (t, name) ->
            out.printf(
                "%-8s %-14s %d partition(s) %s%s%n",
                created.contains(name) ? "created" : "exists",
                name,
                t.partitions(partitions),
                t.configs().isEmpty() ? "" : t.configs(),
                created.contains(name) ? "" : " (left as it is)"));
    out.flush();
    return 0;
  }

  private Topics role(String role) {
    try {
      return Topics.valueOf(role.strip().toUpperCase(Locale.ROOT).replace('-', '_'));
    } catch (IllegalArgumentException e) {
      throw new ParameterException(
          spec.commandLine(),
          "no topic '" + role + "': readings, forecasts, evaluations, dead-letters or models");
    }
  }
}
