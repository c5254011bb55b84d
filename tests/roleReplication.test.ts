// The error hook that retries an app role assignment while its role replicates: which failures it retries, how long it
// waits, when it gives up. What this cannot prove: that the engine calls it and retries the create (the engine tier's
// tests/engine/replication.test.ts does, with the local tenant's replication delay on).
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import {
  retriedWhileRoleReplicates,
  retryWhileRoleReplicates,
  roleNotFoundMessage,
  roleReplicationWaitsMs,
} from "../components/roleReplication";

const refused = `Could not create app role assignment: unexpected status 400 (400 Bad Request) with error: Request_BadRequest: ${roleNotFoundMessage} '6b1c0e3a-0000-4000-8000-000000000001'.`;

async function decide(failedOperation: string, errors: string[]) {
  const waits: number[] = [];
  const retry = await retryWhileRoleReplicates({ failedOperation, errors }, async (ms) => {
    waits.push(ms);
  });
  return { retry, waits };
}

describe("retryWhileRoleReplicates", () => {
  it("retries a create Graph refused for a role it does not show, after 2, 4, 8, 16, 30, 30 and 30 s", async () => {
    const waits: number[] = [];
    for (let failures = 1; failures <= roleReplicationWaitsMs.length; failures++) {
      const decision = await decide("create", Array<string>(failures).fill(refused));
      expect(decision.retry).toBe(true);
      waits.push(...decision.waits);
    }
    expect(waits).toEqual([2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  });

  it("gives up after the seventh retry: a role that never comes fails the create with Graph's message", async () => {
    expect(await decide("create", Array<string>(roleReplicationWaitsMs.length + 1).fill(refused))).toEqual({
      retry: false,
      waits: [],
    });
  });

  it("judges the newest error only, and retries nothing else", async () => {
    const landed =
      "Could not create app role assignment: unexpected status 400 (400 Bad Request) with error: Request_BadRequest: Permission being assigned already exists on the object";
    expect(await decide("create", [landed, refused])).toEqual({ retry: false, waits: [] });
    expect(await decide("create", ["Could not create app role assignment: unexpected status 403"])).toEqual({
      retry: false,
      waits: [],
    });
    expect(await decide("delete", [refused])).toEqual({ retry: false, waits: [] });
    expect(await decide("update", [refused])).toEqual({ retry: false, waits: [] });
  });
});

describe("retriedWhileRoleReplicates", () => {
  it("adds no hook where the monitor cannot register one (the unit tests' mocks)", async () => {
    await pulumi.runtime.setMocks({
      newResource: (args) => ({ id: `${args.name}-id`, state: args.inputs }),
      call: (args) => args.inputs,
    });
    expect(retriedWhileRoleReplicates()).toEqual({});
  });
});
