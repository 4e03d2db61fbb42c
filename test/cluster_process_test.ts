// Proves the server cluster with real processes running the source (bun src/main.ts); the
// scenarios are in test/support/cluster_suite.ts (also run against the compiled binary).
import { clusterSuite } from "./support/cluster_suite.ts";

clusterSuite("source");
