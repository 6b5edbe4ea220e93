using System.Globalization;
using System.Net;
using Agora.Tests.Notifications;
using Agora.Tests.Security;
using Agora.Tests.Subscriptions;
using static Agora.Tests.AgoraApplication;

namespace Agora.Tests.Market;

/// Consumer accounts, as an organisation that signs up to shop lives them: it reads nothing until an agreement is
/// active, then exactly what the agreement covers, and nothing again once it is suspended or has ended; it
/// shops within the limits the city set; and a tenant-wide consumer key is not a way to shop.
public sealed class ConsumerAccountTests
{
    private const string Base = MarketAgora.Base;
    private const string Inside = EnforcementTests.Inside;
    private const string Outside = EnforcementTests.Outside;

    // The city of EnforcementTests, which takes sign-ups.
    private static Task<MarketAgora> OpenCityAsync(params (string, string)[] settings) =>
        EnforcementTests.CityAsync([("Agora:Market:OpenSignup", "true"), .. settings]);

    private static async Task<HttpResponseMessage> SignUpAsync(MarketAgora market, string name)
    {
        using var anonymous = market.App.CreateClient();
        return await anonymous.PostAsync(Base + "/signup", Json($$"""{"name": "{{name}}"}"""));
    }

    /// An organisation signs up: a client with its account's key.
    private static async Task<HttpClient> AccountAsync(MarketAgora market, string name = "Acme Mobility")
    {
        using var response = await SignUpAsync(market, name);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return market.Consumer((string)(await SecuredAgora.JsonAsync(response))["key"]!);
    }

    // Every way a consumer reads: entities, queries, history, discovery, subscriptions, context sources.
    private static readonly (string Method, string Path, string? Body)[] Reads =
    [
        ("GET", EntitiesPath + "?type=AirQualityObserved", null),
        ("GET", EntityPath(Inside), null),
        ("POST", "/ngsi-ld/v1/entityOperations/query", """{"type": "Query", "entities": [{"type": "AirQualityObserved"}]}"""),
        ("GET", "/ngsi-ld/v1/entities?type=AirQualityObserved&count=true&limit=0", null),
        ("GET", "/ngsi-ld/v1/temporal/entities?type=AirQualityObserved&timerel=after&timeAt=2020-01-01T00:00:00Z", null),
        ("GET", "/ngsi-ld/v1/temporal/entities/" + Uri.EscapeDataString(Inside), null),
        ("POST", "/ngsi-ld/v1/temporal/entityOperations/query", """{"type": "Query", "entities": [{"type": "AirQualityObserved"}], "temporalQ": {"timerel": "after", "timeAt": "2020-01-01T00:00:00Z"}}"""),
        ("GET", "/ngsi-ld/v1/types", null),
        ("GET", "/ngsi-ld/v1/types?details=true", null),
        ("GET", "/ngsi-ld/v1/types/AirQualityObserved", null),
        ("GET", "/ngsi-ld/v1/attributes", null),
        ("GET", "/ngsi-ld/v1/attributes?details=true", null),
        ("GET", "/ngsi-ld/v1/subscriptions", null),
        ("POST", "/ngsi-ld/v1/subscriptions", """{"type": "Subscription", "entities": [{"type": "AirQualityObserved"}], "notification": {"endpoint": {"uri": "http://127.0.0.1:9/notify"}}}"""),
        ("GET", "/ngsi-ld/v1/csourceRegistrations", null),
        ("GET", EntitiesPath + "?type=RemoteStation", null),
    ];

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, (string Method, string Path, string? Body) read) =>
        await client.SendAsync(new HttpRequestMessage(new HttpMethod(read.Method), read.Path) { Content = read.Body is null ? null : Json(read.Body) });

    [Fact]
    public async Task AnAccountWithoutAnAgreementReadsNothing()
    {
        await using var market = await OpenCityAsync();
        // Distributed operations: a context source holds a type of its own; the account does not reach it either.
        using (var registered = await market.Admin.PostAsync("/ngsi-ld/v1/csourceRegistrations", Json("""
            {"type": "ContextSourceRegistration", "information": [{"entities": [{"type": "RemoteStation"}]}], "endpoint": "http://127.0.0.1:9"}
            """)))
        {
            Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        }
        using var account = await AccountAsync(market);

        foreach (var read in Reads)
        {
            using var response = await SendAsync(account, read);
            var problem = await NgsiLdAssert.ProblemAsync(response, HttpStatusCode.Forbidden);
            Assert.Contains("no active agreement", (string?)problem["detail"], StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task WithOneAgreementAnAccountReadsExactlyWhatItCovers()
    {
        await using var market = await OpenCityAsync();
        using var account = await AccountAsync(market);
        var offering = await market.OfferingAsync(await market.DataSourceAsync(EnforcementTests.Source));
        var agreement = (string)(await MarketAgora.RequestAsync(account, offering))["id"]!;
        using var pending = await account.GetAsync(EntitiesPath + "?type=AirQualityObserved");
        await market.ActAsync(agreement, "approve");
        var at = DateTimeOffset.UtcNow.AddDays(-1).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        using (var history = await market.Admin.PostAsync($"/ngsi-ld/v1/temporal/entities/{Uri.EscapeDataString(Inside)}/attrs", Json($$"""
            {"NO2": [{"type": "Property", "value": 30, "observedAt": "{{at}}"}], "temperature": [{"type": "Property", "value": 19, "observedAt": "{{at}}"}]}
            """)))
        {
            Assert.Equal(HttpStatusCode.NoContent, history.StatusCode);
        }

        var entities = await EnforcementTests.OkAsync(await account.GetAsync(EntitiesPath + "?type=AirQualityObserved&options=keyValues"));
        var posted = await EnforcementTests.OkAsync(await account.PostAsync("/ngsi-ld/v1/entityOperations/query?options=keyValues",
            Json("""{"type": "Query", "entities": [{"type": "AirQualityObserved"}]}""")));
        var types = await EnforcementTests.OkAsync(await account.GetAsync("/ngsi-ld/v1/types?details=true"));
        var attributes = await EnforcementTests.OkAsync(await account.GetAsync("/ngsi-ld/v1/attributes"));
        var temporal = await EnforcementTests.OkAsync(await account.GetAsync("/ngsi-ld/v1/temporal/entities/" + Uri.EscapeDataString(Inside)));
        using var outside = await account.GetAsync(EntityPath(Outside));
        using var third = await account.GetAsync(EntitiesPath + "?type=AirQualityObserved&attrs=temperature");
        using var write = await account.PostAsync(EntitiesPath, Json("""{"id": "urn:ngsi-ld:AirQualityObserved:mine", "type": "AirQualityObserved"}"""));

        await NgsiLdAssert.ProblemAsync(pending, HttpStatusCode.Forbidden);
        Assert.Equal([Inside], EnforcementTests.Ids(entities));
        Assert.Equal(["NO2", "PM10", "id", "type"], EnforcementTests.Members(entities[0]!));
        Assert.Equal([Inside], EnforcementTests.Ids(posted));
        Assert.Equal(["NO2", "PM10", "id", "type"], EnforcementTests.Members(posted[0]!));
        Assert.Equal(["AirQualityObserved"], types.AsArray().Select(t => (string)t!["typeName"]!));
        Assert.Equal(["NO2", "PM10"], attributes["attributeList"]!.AsArray().Select(a => (string)a!).Order());
        Assert.Contains("NO2", EnforcementTests.Members(temporal));
        Assert.DoesNotContain("temperature", EnforcementTests.Members(temporal));
        await NgsiLdAssert.ProblemAsync(outside, HttpStatusCode.Forbidden);
        await NgsiLdAssert.ProblemAsync(third, HttpStatusCode.Forbidden);
        await NgsiLdAssert.ProblemAsync(write, HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task ASuspendedAgreementStopsTheAccountsReadsAndNotificationsAtOnce()
    {
        await using var market = await OpenCityAsync();
        await using var receiver = await NotificationReceiver.StartAsync();
        using var account = await AccountAsync(market);
        var offering = await market.OfferingAsync(await market.DataSourceAsync(EnforcementTests.Source));
        var agreement = (string)(await MarketAgora.RequestAsync(account, offering))["id"]!;
        await market.ActAsync(agreement, "approve");
        using (var subscribed = await account.PostAsync(SubscriptionClient.SubscriptionsPath, Json($$"""
            {"type": "Subscription", "entities": [{"type": "AirQualityObserved"}], "notification": {"endpoint": {"uri": "{{receiver.Url}}"} } }
            """)))
        {
            Assert.Equal(HttpStatusCode.Created, subscribed.StatusCode);
        }
        async Task ChangeAsync(int value)
        {
            using var patched = await market.Admin.PatchAsync(AttrsPath(Inside), Json($$"""{"NO2": {"type": "Property", "value": {{value}}} }"""));
            Assert.Equal(HttpStatusCode.NoContent, patched.StatusCode);
        }

        await ChangeAsync(50);
        var notified = await receiver.NextAsync(TimeSpan.FromSeconds(10));
        await market.ActAsync(agreement, "suspend");
        using var suspendedRead = await account.GetAsync(EntitiesPath + "?type=AirQualityObserved");
        await ChangeAsync(60);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (SubscriptionClient.Outbox(market.App).Count > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
        await market.ActAsync(agreement, "resume");
        using var resumedRead = await account.GetAsync(EntitiesPath + "?type=AirQualityObserved");

        Assert.Contains("50", notified.Body, StringComparison.Ordinal);
        Assert.Contains("no active agreement", (string?)(await NgsiLdAssert.ProblemAsync(suspendedRead, HttpStatusCode.Forbidden))["detail"], StringComparison.Ordinal);
        Assert.Single(receiver.Received);
        Assert.Equal(HttpStatusCode.OK, resumedRead.StatusCode);
    }

    [Fact]
    public async Task AnAgreementPastItsEndStopsTheAccountsReads()
    {
        await using var market = await OpenCityAsync();
        using var account = await AccountAsync(market);
        var offering = await market.OfferingAsync(await market.DataSourceAsync(EnforcementTests.Source), "\"accessMode\": \"open\"");
        var end = DateTimeOffset.UtcNow.AddSeconds(1).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        using (var requested = await account.PostAsync(Base + "/agreements", Json($$"""{"offering": "{{offering}}", "endAt": "{{end}}"}""")))
        {
            Assert.Equal(HttpStatusCode.Created, requested.StatusCode);
        }

        using var ended = await EnforcementTests.UntilRefusedAsync(account);

        Assert.Contains("no active agreement", (string?)(await NgsiLdAssert.ProblemAsync(ended, HttpStatusCode.Forbidden))["detail"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignUpIsClosedUntilTheCityOpensItAndTakesNoNameAlreadyInUse()
    {
        await using var market = new MarketAgora();
        using var anonymous = market.App.CreateClient();
        using var tenantWide = market.Consumer();
        await MarketAgora.RequestAsync(market.Admin, await market.OfferingAsync(await market.DataSourceAsync(EnforcementTests.Source)), "Old Partner");

        var closedSetting = await EnforcementTests.OkAsync(await anonymous.GetAsync(Base + "/signup"));
        using var closed = await SignUpAsync(market, "Acme Mobility");
        using var notTheirs = await tenantWide.PutAsync(Base + "/signup", Json("""{"open": true}"""));
        using var badSetting = await market.Admin.PutAsync(Base + "/signup", Json("""{"open": "yes"}"""));
        using var opened = await market.Admin.PutAsync(Base + "/signup", Json("""{"open": true}"""));
        using var signedUp = await SignUpAsync(market, "Acme Mobility");
        var account = await SecuredAgora.JsonAsync(signedUp);
        using var again = await SignUpAsync(market, "Acme Mobility");
        using var agreementsName = await SignUpAsync(market, "Old Partner");
        using var badName = await anonymous.PostAsync(Base + "/signup", Json("""{"name": "x", "role": "admin"}"""));
        using var ownRecord = market.Consumer((string)account["key"]!);
        var listed = await EnforcementTests.OkAsync(await ownRecord.GetAsync(Base + "/consumers"));
        var byTheCity = await EnforcementTests.OkAsync(await market.Admin.GetAsync(Base + "/consumers"));
        using var closedAgain = await market.Admin.PutAsync(Base + "/signup", Json("""{"open": false}"""));
        using var refused = await SignUpAsync(market, "Late Comer");

        Assert.False((bool)closedSetting["open"]!);
        Assert.Contains("does not take sign-ups", (string?)(await NgsiLdAssert.ProblemAsync(closed, HttpStatusCode.Forbidden))["detail"], StringComparison.Ordinal);
        await NgsiLdAssert.ProblemAsync(notTheirs, HttpStatusCode.Forbidden);
        await NgsiLdAssert.ProblemAsync(badSetting, HttpStatusCode.BadRequest);
        Assert.True((bool)(await SecuredAgora.JsonAsync(opened))["open"]!);
        Assert.Equal(HttpStatusCode.Created, signedUp.StatusCode);
        Assert.StartsWith("agora_k", (string?)account["key"], StringComparison.Ordinal);
        await NgsiLdAssert.ProblemAsync(again, HttpStatusCode.Conflict);
        Assert.Contains("named by agreements", (string?)(await NgsiLdAssert.ProblemAsync(agreementsName, HttpStatusCode.Conflict))["detail"], StringComparison.Ordinal);
        await NgsiLdAssert.ProblemAsync(badName, HttpStatusCode.BadRequest);
        Assert.Equal(["Acme Mobility"], listed.AsArray().Select(c => (string)c!["name"]!));
        Assert.Equal(["Acme Mobility"], byTheCity.AsArray().Select(c => (string)c!["name"]!));
        Assert.Equal(HttpStatusCode.OK, closedAgain.StatusCode);
        await NgsiLdAssert.ProblemAsync(refused, HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task OneAddressSignsUpOnlySoManyAccountsADay()
    {
        await using var market = new MarketAgora("", ("Agora:Market:OpenSignup", "true"), ("Agora:Market:SignupsPerAddress", "2"));

        using var first = await SignUpAsync(market, "First");
        using var taken = await SignUpAsync(market, "First");
        using var second = await SignUpAsync(market, "Second");
        using var third = await SignUpAsync(market, "Third");
        var audit = (await SecuredAgora.JsonAsync(await market.Admin.GetAsync("/admin/v1/audit?decision=throttled"))).AsArray();

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        await NgsiLdAssert.ProblemAsync(taken, HttpStatusCode.Conflict);
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        var problem = await NgsiLdAssert.ProblemAsync(third, HttpStatusCode.TooManyRequests, "TooManyRequests");
        Assert.Contains("2 consumer accounts in the last 24 hours", (string?)problem["detail"], StringComparison.Ordinal);
        Assert.InRange(third.Headers.RetryAfter!.Delta!.Value.TotalHours, 23, 24);
        Assert.Contains(audit, e => ((string)e!["reason"]!).StartsWith("sign-up of 'Third'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnAccountHoldsOnlySoManyPendingRequestsAndWithdrawsOne()
    {
        await using var market = await OpenCityAsync(("Agora:Market:PendingRequestsPerConsumer", "2"));
        using var account = await AccountAsync(market);
        var offering = await market.OfferingAsync(await market.DataSourceAsync(EnforcementTests.Source));

        var first = (string)(await MarketAgora.RequestAsync(account, offering))["id"]!;
        await MarketAgora.RequestAsync(account, offering);
        using var third = await account.PostAsync(Base + "/agreements", Json($$"""{"offering": "{{offering}}"}"""));
        using var approveOwn = await account.PostAsync($"{Base}/agreements/{first}/approve", null);
        using var withdrawn = await account.PostAsync($"{Base}/agreements/{first}/terminate", null);
        var afterWithdrawal = await MarketAgora.RequestAsync(account, offering);
        var byTheCity = await MarketAgora.RequestAsync(market.Admin, offering, "Acme Mobility");

        var problem = await NgsiLdAssert.ProblemAsync(third, HttpStatusCode.TooManyRequests, "TooManyRequests");
        Assert.Contains("2 agreement requests waiting", (string?)problem["detail"], StringComparison.Ordinal);
        await NgsiLdAssert.ProblemAsync(approveOwn, HttpStatusCode.Forbidden);
        Assert.Equal("terminated", (string?)(await SecuredAgora.JsonAsync(withdrawn))["state"]);
        Assert.Equal("pendingApproval", (string?)afterWithdrawal["state"]);
        Assert.Equal("pendingApproval", (string?)byTheCity["state"]);
    }

    [Fact]
    public async Task ATenantWideConsumerKeyDoesNotShop()
    {
        await using var market = new MarketAgora();
        var offering = await market.OfferingAsync(await market.DataSourceAsync(EnforcementTests.Source), "\"accessMode\": \"open\"");
        using var tenantWide = market.Consumer();

        using var requested = await tenantWide.PostAsync(Base + "/agreements", Json($$"""{"offering": "{{offering}}", "consumer": "Acme Mobility"}"""));
        var offerings = await EnforcementTests.OkAsync(await tenantWide.GetAsync(Base + "/offerings"));

        var problem = await NgsiLdAssert.ProblemAsync(requested, HttpStatusCode.Forbidden);
        Assert.Contains("consumer account", (string?)problem["detail"], StringComparison.Ordinal);
        Assert.Single(offerings.AsArray());
    }

    [Fact]
    public async Task HostileNamesAre400AndNamesThatLookAlikeAreOne()
    {
        await using var market = await OpenCityAsync();
        using var signedUp = await SignUpAsync(market, "  Acme \u00a0  Mobility ");
        var account = await SecuredAgora.JsonAsync(signedUp);

        var refused = new List<HttpResponseMessage>();
        foreach (var name in new[] { @"Acme\u0000Mobility", @"Bell\u0007", @"Broken \ud800 surrogate", @"\u001b[31mRed" })
        {
            refused.Add(await SignUpAsync(market, name));
            refused.Add(await market.Admin.PostAsync(Base + "/consumers", Json($$"""{"name": "{{name}}"}""")));
        }
        var offering = await market.OfferingAsync(await market.DataSourceAsync(EnforcementTests.Source));
        using var badConsumer = await market.Admin.PostAsync(Base + "/agreements", Json($$"""{"offering": "{{offering}}", "consumer": "Acme\u0000"}"""));
        using var badTitle = await market.Admin.PostAsync(Base + "/datasources", Json("""{"name": "Air\u0000", "entityTypes": ["AirQualityObserved"]}"""));
        var lookAlikes = new List<HttpResponseMessage>
        {
            await SignUpAsync(market, "acme mobility"),
            await SignUpAsync(market, "ACME  MOBILITY"),
            await SignUpAsync(market, "\uff21cme Mobility"),
            await market.Admin.PostAsync(Base + "/consumers", Json("""{"name": "Acme mobility "}""")),
        };

        Assert.Equal("Acme Mobility", (string?)account["name"]);
        var types = new List<string?>();
        foreach (var response in refused)
        {
            types.Add((string?)(await NgsiLdAssert.ProblemAsync(response, HttpStatusCode.BadRequest))["type"]);
            response.Dispose();
        }
        // An unpaired surrogate escape is refused by the JSON reader already (InvalidRequest); the rest by the market.
        Assert.Equal(6, types.Count(t => t!.EndsWith("BadRequestData", StringComparison.Ordinal)));
        await NgsiLdAssert.ProblemAsync(badConsumer, HttpStatusCode.BadRequest, "BadRequestData");
        await NgsiLdAssert.ProblemAsync(badTitle, HttpStatusCode.BadRequest, "BadRequestData");
        foreach (var response in lookAlikes)
        {
            await NgsiLdAssert.ProblemAsync(response, HttpStatusCode.Conflict);
            response.Dispose();
        }
    }

    [Fact]
    public async Task ParallelRequestsAndSignUpsStayWithinTheirLimits()
    {
        await using var market = await OpenCityAsync(("Agora:Market:PendingRequestsPerConsumer", "2"), ("Agora:Market:SignupsPerAddress", "3"));
        using var account = await AccountAsync(market);
        var offering = await market.OfferingAsync(await market.DataSourceAsync(EnforcementTests.Source));

        var requests = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => account.PostAsync(Base + "/agreements", Json($$"""{"offering": "{{offering}}"}"""))));
        var signups = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => SignUpAsync(market, "Parallel " + i)));

        Assert.Equal(2, requests.Count(r => r.StatusCode == HttpStatusCode.Created));
        Assert.All(requests.Where(r => r.StatusCode != HttpStatusCode.Created), r => Assert.Equal(HttpStatusCode.TooManyRequests, r.StatusCode));
        // The account itself was the address's first sign-up.
        Assert.Equal(2, signups.Count(r => r.StatusCode == HttpStatusCode.Created));
        Assert.All(signups.Where(r => r.StatusCode != HttpStatusCode.Created), r => Assert.Equal(HttpStatusCode.TooManyRequests, r.StatusCode));
        foreach (var response in requests.Concat(signups))
        {
            response.Dispose();
        }
    }

    [Fact]
    public async Task SignUpIsOnlyInTenantsThatExistAndItsRefusalsAreAuditedOnceADay()
    {
        await using var market = new MarketAgora("", ("Agora:Market:OpenSignup", "true"), ("Agora:Market:SignupsPerAddress", "1"));
        using var anonymous = market.App.CreateClient();
        using var nowhere = new HttpRequestMessage(HttpMethod.Post, Base + "/signup") { Content = Json("""{"name": "Nowhere Ltd"}""") };
        nowhere.Headers.Add("NGSILD-Tenant", "no-such-city");
        using var inNoTenant = await anonymous.SendAsync(nowhere);
        using var badTenant = new HttpRequestMessage(HttpMethod.Get, Base + "/signup");
        badTenant.Headers.Add("NGSILD-Tenant", new string('t', 129));
        using var invalid = await anonymous.SendAsync(badTenant);

        using var first = await SignUpAsync(market, "First");
        foreach (var name in new[] { "Second", "Third", "Fourth" })
        {
            using var refused = await SignUpAsync(market, name);
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        }
        var audit = (await SecuredAgora.JsonAsync(await market.Admin.GetAsync("/admin/v1/audit?decision=throttled"))).AsArray();

        await NgsiLdAssert.ProblemAsync(inNoTenant, HttpStatusCode.NotFound, "NonexistentTenant");
        await NgsiLdAssert.ProblemAsync(invalid, HttpStatusCode.BadRequest);
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Single(audit, e => ((string)e!["reason"]!).StartsWith("sign-up of", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2:ffff:ffff:ffff:1", "2001:db8:1:2::/64")]
    [InlineData("::ffff:192.0.2.7", "192.0.2.7")]
    [InlineData("192.0.2.7", "192.0.2.7")]
    public void AnIPv6AddressCountsByItsSlash64(string address, string counted) =>
        Assert.Equal(counted, Agora.Market.SignupApi.AddressOf(System.Net.IPAddress.Parse(address)));
}
