package dev.sparkvit.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;

/** What the mini cluster's ResourceManager says about applications (its REST API, /ws/v1/cluster/apps). */
final class ResourceManager {
    private final String web;
    private final HttpClient http = HttpClient.newHttpClient();
    private final ObjectMapper json = new ObjectMapper();

    ResourceManager(String web) {
        this.web = web;
    }

    private JsonNode get(String path) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(web + path)).header("Accept",
                "application/json").build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IOException(web + path + " answered " + r.statusCode() + ": " + r.body());
        }
        return json.readTree(r.body());
    }

    /** Ids of every application the RM knows, oldest first. */
    List<String> applications() throws IOException, InterruptedException {
        List<String> ids = new ArrayList<>();
        for (JsonNode app : get("/ws/v1/cluster/apps").path("apps").path("app")) {
            ids.add(app.path("id").asText());
        }
        ids.sort(null);
        return ids;
    }

    /** The one application started after {@code before} was listed. */
    String newApplication(List<String> before) throws IOException, InterruptedException {
        List<String> now = applications();
        now.removeAll(before);
        if (now.size() != 1) {
            throw new AssertionError("expected one new YARN application, found " + now);
        }
        return now.get(0);
    }

    int attempts(String app) throws IOException, InterruptedException {
        return get("/ws/v1/cluster/apps/" + app + "/appattempts").path("appAttempts").path("appAttempt").size();
    }

    /** state/finalStatus, e.g. FINISHED/SUCCEEDED. */
    String status(String app) throws IOException, InterruptedException {
        JsonNode a = get("/ws/v1/cluster/apps/" + app).path("app");
        return a.path("state").asText() + "/" + a.path("finalStatus").asText();
    }
}
