package dev.forecaster.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.forecaster.job.ForecastJob;
import dev.forecaster.job.JobConfig;
import dev.forecaster.job.LocalCheckpoints;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.jobgraph.SavepointRestoreSettings;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;

/**
 * Flink's mini cluster in this JVM, for benchmarks that need its handles: one task manager to lose
 * and replace, the job submitted and restored by hand, and Flink's own count of restarts.
 */
final class BenchCluster implements AutoCloseable {

  private final MiniCluster cluster;
  private final HttpClient http = HttpClient.newHttpClient();
  private JobID job;
  private int taskManager; // the one that runs the job: the mini cluster numbers them as started
  private long restartsOfEarlierJobs;

  private BenchCluster(MiniCluster cluster) {
    this.cluster = cluster;
  }

  /** One task manager with {@code slots} slots; every server on 127.0.0.1; restarts forever. */
  static BenchCluster start(int slots) throws Exception {
    Map<String, String> c = new HashMap<>(ForecastJob.loopbackOnly());
    c.put("restart-strategy.type", "fixed-delay");
    c.put("restart-strategy.fixed-delay.attempts", "1000");
    c.put("restart-strategy.fixed-delay.delay", "2 s");
    c.put("metrics.fetcher.update-interval", "1000");
    MiniCluster cluster =
        new MiniCluster(
            new MiniClusterConfiguration.Builder()
                .setNumTaskManagers(1)
                .setNumSlotsPerTaskManager(slots)
                .setConfiguration(Configuration.fromMap(c))
                .build());
    cluster.start();
    return new BenchCluster(cluster);
  }

  /** Submits the job, restoring {@code checkpoint} when it is given. */
  void submit(JobConfig config, String name, Path checkpoint) throws Exception {
    StreamExecutionEnvironment env =
        StreamExecutionEnvironment.getExecutionEnvironment(new Configuration());
    ForecastJob.define(env, config, false);
    StreamGraph graph = env.getStreamGraph();
    graph.setJobName(name);
    if (checkpoint != null) {
      graph.setSavepointRestoreSettings(
          SavepointRestoreSettings.forPath(checkpoint.toUri().toString(), false));
    }
    job = cluster.submitJob(graph).get(60, TimeUnit.SECONDS).getJobID();
  }

  void cancel() throws Exception {
    restartsOfEarlierJobs += currentRestarts();
    cluster.cancelJob(job).get(60, TimeUnit.SECONDS);
    cluster.requestJobResult(job).get(60, TimeUnit.SECONDS);
    job = null;
  }

  /** Cancels the job and submits it again from its newest checkpoint, as forecast job does. */
  void restartFromCheckpoint(JobConfig config, String name) throws Exception {
    cancel();
    Path newest =
        LocalCheckpoints.newest(LocalCheckpoints.folder(config))
            .orElseThrow(() -> new IllegalStateException("no checkpoint to restore"));
    submit(config, name, newest);
  }

  /** The task manager that runs the job is lost; a new one takes its place. */
  void loseTaskManager() throws Exception {
    cluster.terminateTaskManager(taskManager).get(60, TimeUnit.SECONDS);
    cluster.startTaskManager();
    taskManager++;
  }

  int taskManager() {
    return taskManager;
  }

  /** Restarts of every job submitted so far. */
  long restarts() throws Exception {
    return restartsOfEarlierJobs + (job == null ? 0 : currentRestarts());
  }

  /** Flink's own count of the job's restarts ({@code numRestarts}), over its REST API. */
  private long currentRestarts() throws Exception {
    URI rest = cluster.getRestAddress().get();
    for (int attempt = 0; attempt < 30; attempt++) {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(rest.resolve("/jobs/" + job + "/metrics?get=numRestarts"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      JsonNode body = BenchSupport.JSON.readTree(r.body());
      if (r.statusCode() == 200 && body.isArray() && !body.isEmpty()) {
        return body.get(0).get("value").asLong();
      }
      Thread.sleep(1000); // the metric fetcher has not fetched it yet
    }
    throw new IllegalStateException("no numRestarts metric for job " + job);
  }

  @Override
  public void close() throws Exception {
    if (job != null) {
      cancel();
    }
    cluster.closeAsync().get(60, TimeUnit.SECONDS);
  }
}
