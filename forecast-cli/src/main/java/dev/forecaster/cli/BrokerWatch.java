package dev.forecaster.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;

/**
 * Says once when the brokers of a running command are lost and once when they are back. The Kafka
 * clients log a warning for every failed connection attempt (hundreds a minute); the CLI's log
 * configuration keeps those quiet and this watch speaks instead.
 */
final class BrokerWatch implements AutoCloseable {

  static final Duration PERIOD = Duration.ofSeconds(5);

  private final Admin admin;
  private final PrintWriter out;
  private final String servers;
  private final ScheduledExecutorService timer;
  private Instant lostAt; // only the timer thread touches it

  private BrokerWatch(Map<String, Object> kafka, PrintWriter out) {
    Map<String, Object> conf = new HashMap<>(kafka);
    conf.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) PERIOD.toMillis());
    conf.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) PERIOD.toMillis());
    conf.put(AdminClientConfig.CLIENT_ID_CONFIG, "forecast-broker-watch");
    this.admin = Admin.create(conf);
    this.out = out;
    this.servers = String.valueOf(kafka.get(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG));
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "broker-watch");
              t.setDaemon(true);
              return t;
            });
  }

  /** Starts watching the brokers that {@code kafka} (client properties) names. */
  static BrokerWatch start(Map<String, Object> kafka, PrintWriter out) {
    BrokerWatch watch = new BrokerWatch(kafka, out);
    watch.timer.scheduleWithFixedDelay(
        watch::check, PERIOD.toMillis(), PERIOD.toMillis(), TimeUnit.MILLISECONDS);
    return watch;
  }

  private void check() {
    boolean reachable;
    try {
      reachable =
          !admin
              .describeCluster(new DescribeClusterOptions().timeoutMs((int) PERIOD.toMillis()))
              .nodes()
              .get(PERIOD.toMillis() * 2, TimeUnit.MILLISECONDS)
              .isEmpty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    } catch (Exception e) {
      reachable = false;
    }
    Instant now = Instant.now();
    if (!reachable && lostAt == null) {
      lostAt = now;
      say("Kafka at %s is unreachable; retrying until it is back", servers);
    } else if (reachable && lostAt != null) {
      say(
          "Kafka at %s is back after %d s",
          servers, Duration.between(lostAt, now).truncatedTo(ChronoUnit.SECONDS).toSeconds());
      lostAt = null;
    }
  }

  private void say(String format, Object... args) {
    out.printf(
        "%s %s%n",
        LocalTime.now(ZoneId.systemDefault()).truncatedTo(ChronoUnit.SECONDS),
        String.format(format, args));
    out.flush();
  }

  @Override
  public void close() {
    timer.shutdownNow();
    admin.close(Duration.ofSeconds(1));
  }
}
