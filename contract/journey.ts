/**
 * A short learner journey in TypeScript, over openapi-fetch with the types openapi-typescript
 * generates from the live schema (contract/generated/ts/schema.ts, made by contract/run.py):
 *
 *   register → the free product → enroll → start its test → save an answer → resume
 *   → submit → result → leaderboard → log out
 *
 * `tsc --strict` must accept it (contract/tsconfig.json); `make contract` then runs the
 * compiled file with node against the live stack (LIVE_URL).
 */
import { randomUUID } from "node:crypto";
import createClient from "openapi-fetch";
import type { components, paths } from "./generated/ts/schema.js";

type Schemas = components["schemas"];

const FREE_PRODUCT = "backend-diagnostic"; // seed_demo: free, with the PostgreSQL diagnostic
const FREE_TEST = "postgresql-diagnostic";

/** The body of a call that must have answered `status`. */
function ok<T>(result: { data?: T; response: Response }, status = 200): T {
  const { data, response } = result;
  if (response.status !== status || data === undefined) {
    throw new Error(`expected ${status}, got ${response.status} from ${response.url}`);
  }
  return data;
}

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`failed: ${what}`);
  console.log(`  ✓ ${what}`);
}

async function main(): Promise<void> {
  const baseUrl = (process.env["LIVE_URL"] ?? "").replace(/\/$/, "");
  if (!baseUrl) throw new Error("LIVE_URL is not set");
  const api = createClient<paths>({ baseUrl });

  const email = `contract-ts-${Date.now()}@example.com`;
  const auth: Schemas["AuthResponse"] = ok(
    await api.POST("/api/v1/auth/register/", {
      body: { email, password: `ts-${randomUUID()}`, full_name: "Contract TS" },
    }),
    201,
  );
  api.use({
    onRequest({ request }) {
      request.headers.set("Authorization", `Bearer ${auth.access}`);
      return request;
    },
  });
  check(auth.user.email === email, "registered");

  const product = ok(
    await api.GET("/api/v1/catalogue/products/{slug}/", {
      params: { path: { slug: FREE_PRODUCT } },
    }),
  );
  const plan = product.plans.find((p) => p.price_paise === 0);
  if (!plan) throw new Error(`${FREE_PRODUCT} has no free plan`);
  const enrollment = ok(
    await api.POST("/api/v1/catalogue/products/{slug}/enroll/", {
      params: { path: { slug: FREE_PRODUCT } },
      body: { plan: plan.id },
    }),
    201,
  );
  check(enrollment.is_live, `enrolled in ${FREE_PRODUCT}`);

  const session = ok(
    await api.POST("/api/v1/tests/{slug}/sessions/", { params: { path: { slug: FREE_TEST } } }),
    201,
  );
  const path = { params: { path: { id: session.id } } };
  const paper = ok(await api.GET("/api/v1/sessions/{id}/questions/", path));
  const question = paper.questions.find((q) => q.type === "single" && q.choices.length > 0);
  const choice = question?.choices[0];
  if (!question || !choice) throw new Error("the paper has no single-answer question");
  const answer = { choices: [choice.id] };
  const saved = ok(
    await api.PUT("/api/v1/sessions/{id}/responses/{question_id}/", {
      params: { path: { id: session.id, question_id: question.id } },
      body: { answer, seq: 1 },
    }),
  );
  check(saved.applied, "saved an answer");
  const resumed = ok(await api.GET("/api/v1/sessions/{id}/", path));
  check(resumed.answered_count === 1, "resumed with the answer kept");

  const summary = ok(await api.POST("/api/v1/sessions/{id}/submit/", path));
  check(summary.status === "submitted", "submitted");
  const result = ok(await api.GET("/api/v1/sessions/{id}/result/", path));
  // Scores are exact decimal strings (docs/api-guide.md): compare them as text.
  check(result.score === summary.score, `result ${result.score}/${result.max_score}`);
  const board = ok(
    await api.GET("/api/v1/tests/{slug}/leaderboard/", { params: { path: { slug: FREE_TEST } } }),
  );
  check(board.me?.is_me === true && board.me.rank === result.rank, "on the leaderboard");

  const logout = await api.POST("/api/v1/auth/logout/", { body: { refresh: auth.refresh } });
  check(logout.response.status === 204, "logged out");
  console.log("contract journey (TypeScript client): passed");
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
