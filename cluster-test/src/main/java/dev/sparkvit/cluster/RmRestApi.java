package dev.sparkvit.cluster;

import com.google.inject.servlet.GuiceFilter;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import org.apache.hadoop.yarn.server.resourcemanager.ResourceManager;
import org.apache.hadoop.yarn.webapp.WebApp;

/**
 * Makes the ResourceManager's REST API answer in a JVM that also runs a NodeManager. Both web apps are Guice web apps
 * and Guice's {@link GuiceFilter} dispatches through one static pipeline: the NodeManager's, started last, wins, and
 * every {@code /ws/v1/cluster/...} request of the RM answers 404 (the log says "Multiple Servlet injectors
 * detected"). Pointing the static pipeline back at the RM's own makes the RM's pages work (the NodeManager's web
 * pages are lost, which nothing here reads); the launcher's YARN pre-flight reads /ws/v1/cluster/nodes and /scheduler.
 */
final class RmRestApi {
    private RmRestApi() {
    }

    static void takeBackGuicePipeline(ResourceManager rm) throws ReflectiveOperationException {
        Method getWebapp = ResourceManager.class.getDeclaredMethod("getWebapp");
        getWebapp.setAccessible(true);
        WebApp webApp = (WebApp) getWebapp.invoke(rm);
        Field filterField = WebApp.class.getDeclaredField("guiceFilter");
        filterField.setAccessible(true);
        GuiceFilter filter = (GuiceFilter) filterField.get(webApp);
        if (filter == null) {
            throw new IllegalStateException("the ResourceManager's web app has no GuiceFilter");
        }
        Field injected = GuiceFilter.class.getDeclaredField("injectedPipeline");
        injected.setAccessible(true);
        Field pipeline = GuiceFilter.class.getDeclaredField("pipeline");
        pipeline.setAccessible(true);
        pipeline.set(null, injected.get(filter));
    }
}
