package dev.forecaster.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The command line of a JVM of its own for a {@code forecast} command or another main class: this
 * JVM's {@code java}, class path and the project's system properties (DJL offline and its threads,
 * the trusted Avro packages, the data folder, debug output, the logging configuration).
 */
public final class ChildJvm {

  private static final List<String> PREFIXES =
      List.of("forecaster.", "forecast.", "org.apache.avro.", "ai.djl.", "log4j");

  /** DJL reads these from the environment or, as the tests set them, from system properties. */
  private static final Set<String> NAMES = Set.of("DJL_CACHE_DIR", "OPT_OUT_TRACKING");

  private ChildJvm() {}

  /** {@code java}, {@code jvmOptions}, the project's system properties and the class path. */
  static List<String> java(String... jvmOptions) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(List.of(jvmOptions));
    System.getProperties().stringPropertyNames().stream()
        .filter(k -> NAMES.contains(k) || PREFIXES.stream().anyMatch(k::startsWith))
        .sorted()
        .forEach(k -> command.add("-D" + k + "=" + System.getProperty(k)));
    command.addAll(List.of("-cp", System.getProperty("java.class.path")));
    return command;
  }

  /** {@code forecast <args>} in a JVM of its own started with {@code jvmOptions}. */
  public static List<String> forecast(List<String> jvmOptions, List<String> args) {
    List<String> command = new ArrayList<>(java(jvmOptions.toArray(String[]::new)));
    command.add(ForecastCommand.class.getName());
    command.addAll(args);
    return command;
  }
}
