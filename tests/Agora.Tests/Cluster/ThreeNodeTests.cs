using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Agora.Tests.Durability;
using Agora.Tests.Notifications;
using Npgsql;
using Xunit.Abstractions;

namespace Agora.Tests.Cluster;

/// Three Agora processes on one PostgreSQL database, as production runs them behind a load balancer: they
/// share nothing but the database, and a client may reach any of them.
public sealed class ThreeNodeTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "agora-cluster-tests", Guid.NewGuid().ToString("N"));
    private readonly List<AgoraProcess> _nodes = [];

    private async Task<AgoraProcess[]> StartAsync(int count, params string[] settings)
    {
        // One schema for the three, named after the cluster's folder; each node keeps its own data folder.
        var shared = new[] { "--Agora:Storage:Schema", TestDatabase.SchemaOf(_data) };
        var started = Enumerable.Range(_nodes.Count + 1, count)
            .Select(n => AgoraProcess.Start(Path.Combine(_data, "node" + n), output, [.. shared, .. settings]))
            .ToArray();
        _nodes.AddRange(started);
        foreach (var node in started)
        {
            await node.WaitUntilAnsweringAsync();
        }
        return started;
    }

    [PostgresFact]
    public async Task AWriteThroughOneNodeIsReadThroughTheOthersAtOnce()
    {
        var nodes = await StartAsync(3);
        using var one = Client(nodes[0]);
        using var created = await one.PostAsync("/ngsi-ld/v1/entities", Json("""
            {"id": "urn:ngsi-ld:Streetlight:1", "type": "Streetlight", "status": {"type": "Property", "value": "ok"}}
            """));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using var patched = await one.PatchAsync("/ngsi-ld/v1/entities/urn:ngsi-ld:Streetlight:1/attrs", Json("""{"status": "defective"}"""));
        Assert.Equal(HttpStatusCode.NoContent, patched.StatusCode);

        foreach (var node in nodes.Skip(1))
        {
            using var client = Client(node);
            var entity = JsonNode.Parse(await client.GetStringAsync("/ngsi-ld/v1/entities/urn:ngsi-ld:Streetlight:1?options=keyValues"))!;
            Assert.Equal("defective", (string?)entity["status"]);
            var listed = JsonNode.Parse(await client.GetStringAsync("/ngsi-ld/v1/entities?type=Streetlight&q=status==%22defective%22"))!.AsArray();
            Assert.Single(listed);
        }

        // A tenant created through node 3 exists for node 2 without a restart.
        using var three = Client(nodes[2], "district-7");
        using var tenantWrite = await three.PostAsync("/ngsi-ld/v1/entities", Json("""{"id": "urn:ngsi-ld:Bin:1", "type": "Bin"}"""));
        Assert.Equal(HttpStatusCode.Created, tenantWrite.StatusCode);
        using var two = Client(nodes[1], "district-7");
        using var read = await two.GetAsync("/ngsi-ld/v1/entities/urn:ngsi-ld:Bin:1");
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
    }

    [PostgresFact]
    public async Task AContextAddedOnOneNodeIsUsedByTheOthers()
    {
        var nodes = await StartAsync(3);
        using var one = Client(nodes[0]);
        using var added = await one.PostAsync("/ngsi-ld/v1/jsonldContexts", Json("""
            {"@context": {"Lamp": "https://city.example/Lamp", "brightness": "https://city.example/brightness"}}
            """));
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        var path = added.Headers.Location!.ToString();

        // Node 2 serves the context under its own address, and expands a write with it.
        using var two = Client(nodes[1]);
        using var write = new HttpRequestMessage(HttpMethod.Post, "/ngsi-ld/v1/entities")
        {
            Content = Json("""{"id": "urn:ngsi-ld:Lamp:1", "type": "Lamp", "brightness": 70}"""),
        };
        write.Headers.Add("Link", $"<{new Uri(nodes[1].BaseAddress, path)}>; rel=\"http://www.w3.org/ns/json-ld#context\"; type=\"application/ld+json\"");
        using var created = await two.SendAsync(write);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        // Node 3 reads the entity back in the context's short names, and without it in full IRIs.
        using var three = Client(nodes[2]);
        using var read = new HttpRequestMessage(HttpMethod.Get, "/ngsi-ld/v1/entities/urn:ngsi-ld:Lamp:1?options=keyValues");
        read.Headers.Add("Link", $"<{new Uri(nodes[2].BaseAddress, path)}>; rel=\"http://www.w3.org/ns/json-ld#context\"; type=\"application/ld+json\"");
        using var answer = await three.SendAsync(read);
        var entity = JsonNode.Parse(await answer.Content.ReadAsStringAsync())!;
        Assert.Equal("Lamp", (string?)entity["type"]);
        Assert.Equal(70, (int?)entity["brightness"]);
        var plain = JsonNode.Parse(await three.GetStringAsync("/ngsi-ld/v1/entities/urn:ngsi-ld:Lamp:1?options=keyValues"))!;
        Assert.Equal("https://city.example/Lamp", (string?)plain["type"]);

        // Deleted on node 3, it is gone for node 1 too.
        using var deleted = await three.DeleteAsync(path);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        using var gone = await one.GetAsync(path);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [PostgresFact]
    public async Task ANodeCutOffFromOtherNodesNoticesReadsAgainWhatItMissed()
    {
        using var one = Client((await StartAsync(1))[0]);
        var name = "agora-deaf-" + Guid.NewGuid().ToString("N")[..8];
        var deaf = (await StartAsync(1, "--Agora:Storage:ConnectionString", TestDatabase.ConnectionString + ";Application Name=" + name))[0];
        using var two = Client(deaf);
        using var added = await one.PostAsync("/ngsi-ld/v1/jsonldContexts", Json("""{"@context": {"Lamp": "https://city.example/Lamp"}}"""));
        var path = added.Headers.Location!.ToString();
        // A query on node 2 in that context: answered while node 2 holds the context in memory.
        async Task<HttpStatusCode> QueryAsync()
        {
            using var query = new HttpRequestMessage(HttpMethod.Get, "/ngsi-ld/v1/entities?type=Lamp");
            query.Headers.Add("Link", $"<{new Uri(deaf.BaseAddress, path)}>; rel=\"http://www.w3.org/ns/json-ld#context\"; type=\"application/ld+json\"");
            using var answer = await two.SendAsync(query);
            return answer.StatusCode;
        }
        Assert.Equal(HttpStatusCode.OK, await QueryAsync());

        // Node 2's connection that listens for other nodes' changes is cut (as a failover or a firewall would),
        // and the context is deleted on node 1 before node 2 listens again: that announcement never reaches it.
        await using (var connection = new NpgsqlConnection(TestDatabase.ConnectionString))
        {
            await connection.OpenAsync();
            await using var cut = new NpgsqlCommand(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = @name AND query LIKE 'LISTEN%'", connection);
            cut.Parameters.AddWithValue("@name", name);
            Assert.Equal(1L, await cut.ExecuteScalarAsync());
        }
        using (var deleted = await one.DeleteAsync(path))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        // Listening again, node 2 reads everything it keeps afresh, so it no longer knows the context either.
        var deadline = DateTimeOffset.UtcNow.AddSeconds(15);
        HttpStatusCode status;
        do
        {
            await Task.Delay(200);
            status = await QueryAsync();
        }
        while (status == HttpStatusCode.OK && DateTimeOffset.UtcNow < deadline);
        Assert.NotEqual(HttpStatusCode.OK, status);
    }

    [PostgresFact]
    public async Task ASubscriptionMadeOnNodeTwoNotifiesOnceForAWriteOnNodeThree()
    {
        await using var receiver = await NotificationReceiver.StartAsync();
        var nodes = await StartAsync(3);
        using var two = Client(nodes[1]);
        using var subscribed = await two.PostAsync("/ngsi-ld/v1/subscriptions", Json(Subscription(receiver.Url, "Streetlight")));
        Assert.Equal(HttpStatusCode.Created, subscribed.StatusCode);

        using var three = Client(nodes[2]);
        for (var i = 1; i <= 5; i++)
        {
            using var created = await three.PostAsync("/ngsi-ld/v1/entities", Json($$"""{"id": "urn:ngsi-ld:Streetlight:{{i}}", "type": "Streetlight", "status": "ok"}"""));
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }
        for (var i = 1; i <= 5; i++)
        {
            await receiver.NextAsync(TimeSpan.FromSeconds(10));
        }
        // Every node has had time to deliver a copy of its own, if one were going to.
        await Task.Delay(TimeSpan.FromSeconds(3));
        var ids = receiver.Received.Select(r => (string)JsonNode.Parse(r.Body)!["data"]![0]!["id"]!).Order().ToList();
        Assert.Equal([.. Enumerable.Range(1, 5).Select(i => $"urn:ngsi-ld:Streetlight:{i}")], ids);

        // Deleted through node 2, the subscription no longer notifies for writes on node 3.
        using var deleted = await two.DeleteAsync(subscribed.Headers.Location);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        using var after = await three.PostAsync("/ngsi-ld/v1/entities", Json("""{"id": "urn:ngsi-ld:Streetlight:6", "type": "Streetlight", "status": "ok"}"""));
        Assert.Equal(HttpStatusCode.Created, after.StatusCode);
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal(5, receiver.Received.Count);
    }

    [PostgresFact]
    public async Task APeriodicSubscriptionFiresOncePerIntervalAcrossTheNodes()
    {
        await using var receiver = await NotificationReceiver.StartAsync();
        var nodes = await StartAsync(3);
        using var one = Client(nodes[0]);
        using var created = await one.PostAsync("/ngsi-ld/v1/entities", Json("""{"id": "urn:ngsi-ld:Streetlight:1", "type": "Streetlight", "status": "ok"}"""));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var subscription = JsonNode.Parse(Subscription(receiver.Url, "Streetlight"))!.AsObject();
        subscription["timeInterval"] = 2;
        using var subscribed = await one.PostAsync("/ngsi-ld/v1/subscriptions", Json(subscription.ToJsonString()));
        Assert.Equal(HttpStatusCode.Created, subscribed.StatusCode);

        // Each node runs the subscription's timer; between them they fire it once every 2 s.
        await receiver.NextAsync(TimeSpan.FromSeconds(10));
        var first = receiver.Received.Count;
        await Task.Delay(TimeSpan.FromSeconds(10));
        var fired = receiver.Received.Count - first;
        output.WriteLine($"{fired} notifications in 10 s at an interval of 2 s");
        Assert.InRange(fired, 4, 6);
    }

    [PostgresFact]
    public async Task KillingTheNodeThatHoldsPendingNotificationsLosesNone()
    {
        // The endpoint holds every request until a node is killed: the node delivering the first notification
        // holds the subscription's lease then, with all five pending.
        var accepting = false;
        await using var receiver = await NotificationReceiver.StartAsync(async (_, ct) =>
        {
            while (!Volatile.Read(ref accepting))
            {
                await Task.Delay(50, ct);
            }
            return 204;
        });
        var nodes = await StartAsync(3, "--Agora:Notifications:Lease", "00:00:04", "--Agora:Notifications:Timeout", "00:00:03");
        using var one = Client(nodes[0]);
        using var subscribed = await one.PostAsync("/ngsi-ld/v1/subscriptions", Json(Subscription(receiver.Url, "Streetlight")));
        Assert.Equal(HttpStatusCode.Created, subscribed.StatusCode);
        var subscriptionId = subscribed.Headers.Location!.ToString().Split('/')[^1];
        for (var i = 1; i <= 5; i++)
        {
            using var created = await one.PostAsync("/ngsi-ld/v1/entities", Json($$"""{"id": "urn:ngsi-ld:Streetlight:{{i}}", "type": "Streetlight", "status": "ok"}"""));
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }
        await receiver.NextAsync(TimeSpan.FromSeconds(10));

        // The node holding the subscription's delivery lease is the one to kill.
        var holder = await LeaseHolderAsync(Uri.UnescapeDataString(subscriptionId));
        var victim = nodes.Single(n => holder.Contains($"/{n.Id}/", StringComparison.Ordinal));
        output.WriteLine($"Killing {holder}");
        victim.Kill();
        var killed = DateTimeOffset.UtcNow;
        Volatile.Write(ref accepting, true);

        // Once the dead node's lease runs out, a surviving node delivers all five, and the outbox empties.
        var deadline = DateTimeOffset.UtcNow.AddSeconds(30);
        HashSet<string> accepted;
        while ((accepted = [.. receiver.Received.Where(r => r.At >= killed).Select(r => (string)JsonNode.Parse(r.Body)!["data"]![0]!["id"]!)]).Count < 5
            && DateTimeOffset.UtcNow < deadline)
        {
            await Task.Delay(200);
        }
        Assert.Equal([.. Enumerable.Range(1, 5).Select(i => $"urn:ngsi-ld:Streetlight:{i}")], accepted.Order());
        deadline = DateTimeOffset.UtcNow.AddSeconds(10);
        while (await ScalarAsync("SELECT count(*) FROM {0}.outbox") is long pending and > 0)
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, $"{pending} notifications are still in the outbox.");
            await Task.Delay(200);
        }
    }

    // A statement on the default tenant's schema ({0}), as an operator would look at it with psql.
    private async Task<object?> ScalarAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(TestDatabase.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(string.Format(System.Globalization.CultureInfo.InvariantCulture, sql, TestDatabase.SchemaOf(_data) + "_default"), connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        return await command.ExecuteScalarAsync();
    }

    private async Task<string> LeaseHolderAsync(string subscriptionId)
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(10);
        while (true)
        {
            if (await ScalarAsync("SELECT node FROM {0}.delivery_leases WHERE subscription_id = @s", ("@s", subscriptionId)) is string node)
            {
                return node;
            }
            Assert.True(DateTimeOffset.UtcNow < deadline, "No node took the subscription's delivery lease.");
            await Task.Delay(100);
        }
    }

    private static string Subscription(string url, string type) => new JsonObject
    {
        ["type"] = "Subscription",
        ["entities"] = new JsonArray(new JsonObject { ["type"] = type }),
        ["notification"] = new JsonObject { ["endpoint"] = new JsonObject { ["uri"] = url } },
    }.ToJsonString();

    private static HttpClient Client(AgoraProcess node, string? tenant = null)
    {
        var client = new HttpClient { BaseAddress = node.BaseAddress };
        if (tenant is not null)
        {
            client.DefaultRequestHeaders.Add("NGSILD-Tenant", tenant);
        }
        return client;
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public void Dispose()
    {
        foreach (var node in _nodes)
        {
            node.Dispose();
        }
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
        TestDatabase.DropAsync(_data).GetAwaiter().GetResult();
    }
}
