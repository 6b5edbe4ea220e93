using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Agora.Security;
using Agora.Tests.Notifications;
using Agora.Tests.Security;
using Agora.Tests.Subscriptions;
using static Agora.Tests.AgoraApplication;

namespace Agora.Tests.Market;

/// Issue 9's story, end to end, as the city and the consumer live it.
public sealed class StoryTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task ACityPublishesAirQualityAndAConsumerReadsExactlyWhatItAgreedTo()
    {
        await using var market = await EnforcementTests.CityAsync();
        await using var receiver = await NotificationReceiver.StartAsync();
        var now = DateTimeOffset.UtcNow;
        string Ago(int days) => now.AddDays(-days).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        using (var history = await market.Admin.PostAsync($"/ngsi-ld/v1/temporal/entities/{Uri.EscapeDataString(EnforcementTests.Inside)}/attrs", Json($$"""
            {"NO2": [{"type": "Property", "value": 90, "observedAt": "{{Ago(31)}}"}, {"type": "Property", "value": 30, "observedAt": "{{Ago(29)}}"}]}
            """)))
        {
            Assert.Equal(HttpStatusCode.NoContent, history.StatusCode);
        }

        // The city defines the data source and publishes a free offering, 100 calls a day, with its approval.
        var source = await market.DataSourceAsync(EnforcementTests.Source);
        var offering = await market.OfferingAsync(source, """ "pricePlan": {"type": "free"}, "accessMode": "approval", "quotas": {"callsPerDay": 100} """);
        // A consumer signs up, requests it; the city approves, and the consumer collects the agreement's key.
        using (var open = await market.Admin.PutAsync(MarketAgora.Base + "/signup", Json("""{"open": true}""")))
        {
            Assert.Equal(HttpStatusCode.OK, open.StatusCode);
        }
        using var anonymous = market.App.CreateClient();
        using var signedUp = await anonymous.PostAsync(MarketAgora.Base + "/signup", Json("""{"name": "Acme Mobility"}"""));
        Assert.Equal(HttpStatusCode.Created, signedUp.StatusCode);
        using var requester = market.Consumer((string)(await SecuredAgora.JsonAsync(signedUp))["key"]!);
        var requested = await MarketAgora.RequestAsync(requester, offering, "Acme Mobility");
        Assert.Equal("pendingApproval", (string?)requested["state"]);
        var agreement = (string)requested["id"]!;
        Assert.Null((await market.ActAsync(agreement, "approve"))["key"]);
        var key = (string)(await MarketAgora.CollectAsync(requester, agreement))["key"]!;
        using var consumer = market.Consumer(key);
        var calls = 0;

        // It reads exactly the covered entities and attributes: not another district, not a third attribute.
        using (var read = await consumer.GetAsync(EntitiesPath + "?type=AirQualityObserved&options=keyValues"))
        {
            calls++;
            var entities = (await SecuredAgora.JsonAsync(read)).AsArray();
            Assert.Equal([EnforcementTests.Inside], entities.Select(e => (string)e!["id"]!));
            Assert.Equal(["NO2", "PM10", "id", "type"], entities[0]!.AsObject().Select(p => p.Key).Order());
        }
        using (var other = await consumer.GetAsync(EntityPath(EnforcementTests.Outside)))
        {
            await NgsiLdAssert.ProblemAsync(other, HttpStatusCode.Forbidden);
        }
        using (var third = await consumer.GetAsync(EntitiesPath + "?type=AirQualityObserved&attrs=temperature"))
        {
            Assert.Contains("temperature", (string?)(await NgsiLdAssert.ProblemAsync(third, HttpStatusCode.Forbidden))["detail"], StringComparison.Ordinal);
        }
        // Not 31 days back: the 30 days of history, no more.
        using (var old = await consumer.GetAsync($"/ngsi-ld/v1/temporal/entities?type=AirQualityObserved&timerel=before&timeAt={Ago(30)}"))
        {
            await NgsiLdAssert.ProblemAsync(old, HttpStatusCode.Forbidden);
        }
        using (var temporal = await consumer.GetAsync($"/ngsi-ld/v1/temporal/entities/{Uri.EscapeDataString(EnforcementTests.Inside)}?options=temporalValues"))
        {
            calls++;
            var values = (await SecuredAgora.JsonAsync(temporal))["NO2"]!["values"]!.AsArray().Select(v => (int)v![0]!).ToList();
            Assert.Contains(30, values);
            Assert.DoesNotContain(90, values);
        }

        // Its subscription receives only covered changes.
        using (var subscribed = await consumer.PostAsync(SubscriptionClient.SubscriptionsPath, Json($$"""
            {"type": "Subscription", "entities": [{"type": "AirQualityObserved"}], "notification": {"endpoint": {"uri": "{{receiver.Url}}"} } }
            """)))
        {
            calls++;
            Assert.Equal(HttpStatusCode.Created, subscribed.StatusCode);
        }
        await PatchAsync(market, EnforcementTests.Outside, """{"NO2": {"type": "Property", "value": 99}}""");
        await PatchAsync(market, EnforcementTests.Inside, """{"temperature": {"type": "Property", "value": 35}}""");
        await PatchAsync(market, EnforcementTests.Inside, """{"NO2": {"type": "Property", "value": 44}}""");
        var notified = JsonNode.Parse((await receiver.NextAsync(Patience)).Body)!["data"]![0]!;
        Assert.Equal(EnforcementTests.Inside, (string?)notified["id"]);
        Assert.Equal(44, (int)notified["NO2"]!["value"]!);
        Assert.Null(notified["temperature"]);

        // The 101st call of the day is 429; usage shows 100 calls.
        while (calls < 100)
        {
            using var read = await consumer.GetAsync(EntitiesPath + "?type=AirQualityObserved");
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
            calls++;
        }
        using (var over = await consumer.GetAsync(EntitiesPath + "?type=AirQualityObserved"))
        {
            await NgsiLdAssert.ProblemAsync(over, HttpStatusCode.TooManyRequests);
            Assert.True(over.Headers.RetryAfter is not null);
        }
        using (var usage = await requester.GetAsync($"{MarketAgora.Base}/agreements/{agreement}/usage"))
        {
            var today = (await SecuredAgora.JsonAsync(usage))["days"]!.AsArray().Single()!;
            Assert.Equal(100, (int)today["calls"]!);
            Assert.Equal(1, (int)today["notifications"]!);
        }

        // Suspending the agreement stops reads and notifications.
        await market.ActAsync(agreement, "suspend");
        using (var suspended = await consumer.GetAsync("/ngsi-ld/v1/types"))
        {
            await NgsiLdAssert.ProblemAsync(suspended, HttpStatusCode.Forbidden);
        }
        await PatchAsync(market, EnforcementTests.Inside, """{"NO2": {"type": "Property", "value": 45}}""");
        var deadline = DateTime.UtcNow + Patience;
        while (SubscriptionClient.Outbox(market.App).Count > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
        Assert.Single(receiver.Received);

        // The audit log shows each step.
        using var audit = await market.Admin.GetAsync("/admin/v1/audit");
        var log = (await SecuredAgora.JsonAsync(audit)).AsArray().Select(e => $"{e!["decision"]} {e["reason"]}").ToList();
        Assert.Contains(log, e => e.StartsWith("changed created data source " + source, StringComparison.Ordinal));
        Assert.Contains(log, e => e.StartsWith($"changed offering {offering} is published", StringComparison.Ordinal));
        Assert.Contains(log, e => e.StartsWith($"changed agreement {agreement} requested", StringComparison.Ordinal));
        Assert.Contains(log, e => e.StartsWith($"changed agreement {agreement} approved", StringComparison.Ordinal));
        Assert.Contains(log, e => e.StartsWith($"denied agreement {agreement}: The agreement does not cover the entity {EnforcementTests.Outside}", StringComparison.Ordinal));
        Assert.Contains(log, e => e.StartsWith($"throttled agreement {agreement}: quota of 100 calls a day spent", StringComparison.Ordinal));
        Assert.Contains(log, e => e.StartsWith($"changed agreement {agreement} suspended", StringComparison.Ordinal));
        Assert.Contains(log, e => e.StartsWith($"denied agreement {agreement}: The agreement {agreement} is suspended", StringComparison.Ordinal));
        Assert.Contains(log, e => e.StartsWith("denied notification", StringComparison.Ordinal) && e.Contains($"agreement {agreement} is suspended", StringComparison.Ordinal));
    }

    private static async Task PatchAsync(MarketAgora market, string id, string json)
    {
        using var response = await market.Admin.PatchAsync(AttrsPath(id), Json(json));
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }
}
