"""mailtrixy-emulator's Graph mail API as a black box over real HTTPS: folders, messages, $value,
delta, PATCH, move/copy/delete, creating and sending, upload sessions. Expected shapes and error
codes come from docs/graph-facts.md (B0-B12, C4, G). The seed is tests/data/emulator/seed (copied
from the shared corpus, see its MANIFEST.tsv)."""

import base64
import json
import os
import shutil
import tempfile
import unittest
import urllib.parse

from harness import SOURCE_DIR, Emulator

CLIENT_ID = "6731de76-14a6-49ae-97bc-6eba6914391e"
SECRET = "Qx48Q~tEsTsEcReT.vAlUe-0123456789abcdefXY"
REDIRECT_URI = "https://localhost:8443/email-oauth/microsoft/callback"
OWNER = "owner@example.com"
FRIEND = "friend@example.com"
PASSWORD = "Passw0rd!"
SCOPE = ("offline_access openid profile email https://graph.microsoft.com/Mail.ReadWrite "
         "https://graph.microsoft.com/Mail.Send https://graph.microsoft.com/User.Read")
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
SEED = os.path.join(SOURCE_DIR, "tests", "data", "emulator", "seed")
DEFAULT_FOLDERS = {"Archive", "Conversation History", "Deleted Items", "Drafts", "Inbox", "Junk Email", "Outbox",
                   "Sent Items"}
IMMUTABLE = {"Prefer": 'IdType="ImmutableId"'}


def read_seed(*parts):
    with open(os.path.join(SEED, *parts), "rb") as f:
        return f.read()


class MailTestCase(unittest.TestCase):
    def setUp(self):
        self.directory = tempfile.mkdtemp(prefix="mailtrixy-emulator-mail-")
        self.addCleanup(shutil.rmtree, self.directory, True)
        self.emulator = Emulator(self.directory, clients=[(CLIENT_ID, SECRET, [REDIRECT_URI])],
                                 users=[(OWNER, PASSWORD), (FRIEND, PASSWORD)],
                                 args=["--seed", f"{OWNER}={SEED}"])
        self.addCleanup(self.emulator.kill)
        self.tokens = {}

    # ---- helpers ----

    def token(self, user=OWNER):
        if user not in self.tokens:
            query = urllib.parse.urlencode({"client_id": CLIENT_ID, "response_type": "code",
                                            "redirect_uri": REDIRECT_URI, "scope": SCOPE, "state": "s"})
            form = urllib.parse.urlencode({"login": user, "password": PASSWORD, "consent": "accept"})
            status, headers, body = self.emulator.request("POST", "/common/oauth2/v2.0/authorize?" + query, form, FORM)
            self.assertEqual(status, 302, body)
            code = urllib.parse.parse_qs(urllib.parse.urlsplit(headers["Location"]).query)["code"][0]
            fields = urllib.parse.urlencode({"client_id": CLIENT_ID, "client_secret": SECRET, "code": code,
                                             "grant_type": "authorization_code", "redirect_uri": REDIRECT_URI})
            status, _, body = self.emulator.request("POST", "/common/oauth2/v2.0/token", fields, FORM)
            self.assertEqual(status, 200, body)
            self.tokens[user] = json.loads(body)["access_token"]
        return self.tokens[user]

    def raw(self, method, path, body=None, headers=None, user=OWNER):
        """(status, headers, bytes) of a Graph call; `path` below /v1.0 or an absolute emulator URL."""
        if path.startswith("https://"):
            self.assertTrue(path.startswith(self.emulator.url + "/v1.0/"), path)
            path = path[len(self.emulator.url) + len("/v1.0"):]
        all_headers = {"Authorization": f"Bearer {self.token(user)}", **(headers or {})}
        if isinstance(body, (dict, list)):
            all_headers.setdefault("Content-Type", "application/json")
            body = json.dumps(body)
        return self.emulator.request(method, "/v1.0" + path, body, all_headers)

    def graph(self, method, path, body=None, headers=None, user=OWNER, expect=None):
        status, message, data = self.raw(method, path, body, headers, user)
        if expect is not None:
            self.assertEqual(status, expect, data[:2000])
        return status, message, (json.loads(data) if data else None)

    def get(self, path, **kwargs):
        return self.graph("GET", path, expect=200, **kwargs)[2]

    def assert_error(self, result, status, code, message=None):
        got_status, headers, body = result
        self.assertEqual(got_status, status, body)
        self.assertEqual(body["error"]["code"], code, body)
        if message is not None:
            self.assertEqual(body["error"]["message"], message)
        self.assertTrue(headers["Content-Type"].startswith("application/json"))
        self.assertEqual(body["error"]["innerError"]["request-id"], headers["request-id"])
        return body

    def all_pages(self, path, **kwargs):
        items = []
        page = self.get(path, **kwargs)
        while True:
            items += page["value"]
            if "@odata.nextLink" not in page:
                return items, page
            self.assertLessEqual(len(items), 100000)
            page = self.get(page["@odata.nextLink"], **kwargs)

    def deliver(self, mime, user=OWNER):
        status, _ = self.emulator.control("POST", f"/users/{user}/deliver", mime)
        self.assertEqual(status, 200)

    def inbox_ids(self, headers=None):
        items, _ = self.all_pages("/me/mailFolders/inbox/messages?$select=id,subject&$top=100", headers=headers)
        return {item["subject"]: item["id"] for item in items}


class FolderTest(MailTestCase):
    def test_lists_default_folders_seeded_folders_aliases_and_hidden_ones(self):
        status, headers, page = self.graph("GET", "/me/mailFolders?$top=50", expect=200)
        self.assertTrue(headers["Content-Type"].startswith("application/json;odata.metadata=minimal"))
        self.assertEqual(headers["OData-Version"], "4.0")
        self.assertTrue(headers["request-id"])
        self.assertRegex(page["@odata.context"], r"/v1\.0/\$metadata#users\('[^']+'\)/mailFolders$")
        names = {folder["displayName"] for folder in page["value"]}
        self.assertEqual(names, DEFAULT_FOLDERS | {"Projects"})
        for folder in page["value"]:
            self.assertEqual(set(folder), {"id", "displayName", "parentFolderId", "childFolderCount",
                                           "unreadItemCount", "totalItemCount", "sizeInBytes", "isHidden"})
            self.assertTrue(folder["id"].startswith("AQMkAD"))
        by_name = {folder["displayName"]: folder for folder in page["value"]}
        self.assertEqual(by_name["Inbox"]["totalItemCount"], 5)
        self.assertEqual(by_name["Inbox"]["unreadItemCount"], 5)
        self.assertEqual(by_name["Archive"]["totalItemCount"], 1)
        self.assertEqual(by_name["Projects"]["childFolderCount"], 1)
        root = self.get("/me/mailFolders/msgfolderroot")
        self.assertEqual(root["childFolderCount"], 10, "hidden Sync Issues is counted (graph-facts G2)")
        self.assertEqual({f["parentFolderId"] for f in page["value"]}, {root["id"]})

        hidden = self.get("/me/mailFolders?includeHiddenFolders=true&$top=50")
        self.assertEqual(len(hidden["value"]), 10)
        children = self.get(f"/me/mailFolders/{by_name['Projects']['id']}/childFolders")
        self.assertEqual([f["displayName"] for f in children["value"]], ["2024"])

        for alias in ("inbox", "Inbox", "SentItems", "deleteditems", "JunkEmail", "archive", "drafts", "outbox",
                      "conversationhistory"):
            with self.subTest(alias=alias):
                folder = self.get(f"/me/mailFolders/{alias}")
                self.assertIn(folder["displayName"], DEFAULT_FOLDERS)
        self.assertEqual(self.get("/me/mailFolders('inbox')")["id"], by_name["Inbox"]["id"])
        self.assert_error(self.graph("GET", "/me/mailFolders/not-an-id"), 400, "ErrorInvalidIdMalformed",
                          "Id is malformed.")
        paged = self.get("/me/mailFolders?$top=2")
        self.assertEqual(len(paged["value"]), 2)
        self.assertIn("%24skip=2", paged["@odata.nextLink"])
        self.assert_error(self.graph("GET", "/me/mailFolders?$select=isRead"), 400, "RequestBroker--ParseUri",
                          "Could not find a property named 'isRead' on type 'microsoft.graph.mailFolder'.")

    def test_create_conflict_rename_delete_and_folder_delta(self):
        first = self.get("/me/mailFolders/delta", headers={"Prefer": "odata.maxpagesize=100"})
        self.assertIn("@odata.deltaLink", first)
        self.assertIn("Inbox", {f.get("displayName") for f in first["value"]})

        created = self.graph("POST", "/me/mailFolders", {"displayName": "Reports"}, expect=201)[2]
        self.assertTrue(created["@odata.context"].endswith("/mailFolders/$entity"))
        self.assertFalse(created["isHidden"])
        self.assert_error(self.graph("POST", "/me/mailFolders", {"displayName": "reports"}), 409, "ErrorFolderExists",
                          "A folder with the specified name already exists.")
        child = self.graph("POST", f"/me/mailFolders/{created['id']}/childFolders",
                           {"displayName": "Secret", "isHidden": True}, expect=201)[2]
        self.assertTrue(child["isHidden"])
        self.assertEqual(self.get(f"/me/mailFolders/{created['id']}/childFolders")["value"], [])
        self.assertEqual(len(self.get(f"/me/mailFolders/{created['id']}/childFolders?includeHiddenFolders=true")["value"]), 1)
        renamed = self.graph("PATCH", f"/me/mailFolders/{created['id']}", {"displayName": "Quarterly"}, expect=200)[2]
        self.assertEqual(renamed["displayName"], "Quarterly")
        self.assertEqual(renamed["id"], created["id"], "folder ids never change")

        changes = self.get(first["@odata.deltaLink"])
        self.assertIn("Quarterly", {f.get("displayName") for f in changes["value"]})
        self.graph("DELETE", f"/me/mailFolders/{created['id']}", expect=204)
        in_trash = self.get("/me/mailFolders/deleteditems/childFolders")
        self.assertEqual([f["displayName"] for f in in_trash["value"]], ["Quarterly"])
        self.graph("POST", f"/me/mailFolders/{created['id']}/permanentDelete", expect=204)
        self.assert_error(self.graph("GET", f"/me/mailFolders/{created['id']}"), 404, "ErrorItemNotFound")
        removed = self.get(changes["@odata.deltaLink"])
        self.assertIn({"id": created["id"], "@removed": {"reason": "deleted"}}, removed["value"])
        self.assert_error(self.graph("DELETE", "/me/mailFolders/inbox"), 400, "ErrorDeleteDistinguishedFolder")


class MessageTest(MailTestCase):
    def test_list_select_top_skip_paging(self):
        for n in range(20):
            self.deliver(f"From: n{n}@example.org\r\nSubject: extra {n}\r\n\r\nbody {n}\r\n")
        items, last = self.all_pages("/me/mailFolders/inbox/messages?$select=subject,from&$top=10")
        self.assertEqual(len(items), 25)
        self.assertEqual(len({item["id"] for item in items}), 25)
        self.assertNotIn("@odata.nextLink", last)
        first = self.get("/me/mailFolders/inbox/messages?$select=subject,from&$top=10")
        self.assertRegex(first["@odata.context"], r"/mailFolders\('inbox'\)/messages\(subject,from\)$")
        self.assertIn("%24select=subject%2Cfrom", first["@odata.nextLink"])
        self.assertIn("%24skip=10", first["@odata.nextLink"])
        self.assertEqual(set(first["value"][0]), {"@odata.etag", "id", "subject", "from"})
        self.assertEqual(first["value"][0]["subject"], "extra 19", "newest first")
        self.assertEqual(len(self.get("/me/mailFolders/inbox/messages")["value"]), 10, "default page size")
        skipped = self.get("/me/mailFolders/inbox/messages?$select=subject&$top=5&$skip=22")
        self.assertEqual(len(skipped["value"]), 3)
        for top in ("0", "1001", "x"):
            with self.subTest(top=top):
                self.assert_error(self.graph("GET", f"/me/mailFolders/inbox/messages?$top={top}"), 400, "BadRequest")
        self.assert_error(self.graph("GET", "/me/messages?$select=subject,isJunk"), 400, "RequestBroker--ParseUri",
                          "Could not find a property named 'isJunk' on type 'microsoft.graph.message'.")
        everything = self.get("/me/messages?$select=id&$top=1000")
        self.assertEqual(len(everything["value"]), 25 + 1 + 2, "all folders: Inbox, Archive, Projects/2024")

    def test_filter_orderby_and_inefficient_filter(self):
        q = urllib.parse.quote
        self.assert_error(
            self.graph("GET", "/me/messages?$filter=" + q("isRead eq false") + "&$orderby=" + q("receivedDateTime desc")),
            400, "InefficientFilter", "The restriction or sort order is too complex for this operation.")
        ok = self.get("/me/mailFolders/inbox/messages?$select=subject,receivedDateTime&$filter=" +
                      q("receivedDateTime ge 2000-01-01T00:00:00Z and isRead eq false") +
                      "&$orderby=" + q("receivedDateTime desc"))
        self.assertEqual(len(ok["value"]), 5)
        dates = [m["receivedDateTime"] for m in ok["value"]]
        self.assertEqual(dates, sorted(dates, reverse=True))
        self.assertRegex(dates[0], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        james = self.get("/me/mailFolders/inbox/messages?$select=subject&$filter=" +
                         q("from/emailAddress/address eq 'james@makita.skynet'"))
        self.assertEqual({m["subject"] for m in james["value"]}, {"Attachment", "MIME test 1"})
        with_attachments = self.get("/me/mailFolders/inbox/messages?$select=subject&$filter=" + q("hasAttachments eq true"))
        self.assertEqual({m["subject"] for m in with_attachments["value"]}, {"Attachment", "Here is your dingus fish"})
        by_subject = self.get("/me/messages?$select=subject&$orderby=subject")
        subjects = [m["subject"] for m in by_subject["value"]]
        self.assertEqual(subjects, sorted(subjects, key=str.lower))
        self.assert_error(self.graph("GET", "/me/messages?$filter=" + q("isRead eq")), 400, "BadRequest")
        self.assert_error(self.graph("GET", "/me/messages?$filter=" + q("body/content eq 'x'")), 400,
                          "ErrorInvalidUrlQueryFilter")

    def test_get_and_value_round_trip_byte_for_byte(self):
        seeded = {read_seed(name) for name in ("msg_01.eml", "msg_07.eml", "attachment.eml", "qp-utf8-header.eml",
                                               "html-mime-inline.eml")}
        returned = set()
        for subject, message_id in self.inbox_ids().items():
            status, headers, data = self.raw("GET", f"/me/messages/{urllib.parse.quote(message_id)}/$value")
            self.assertEqual(status, 200)
            self.assertEqual(headers["Content-Type"], "text/plain")
            returned.add(data)
        self.assertEqual(returned, seeded)
        subject = "MIME UTF8 Test \u00a2 More Text"
        message = self.get(f"/me/messages/{self.inbox_ids()[subject]}")
        self.assertEqual(message["@odata.etag"], f'W/"{message["changeKey"]}"')
        self.assertTrue(message["@odata.context"].endswith("/messages/$entity"))
        self.assertEqual(message["from"]["emailAddress"]["address"], "jamehi03@jamehi03lx.noa.com")
        self.assertEqual(message["sender"]["emailAddress"]["name"], "Andr\u00e9 Pirard")
        self.assertEqual(message["toRecipients"][0]["emailAddress"]["name"], "Miros\u0142aw Marczak")
        self.assertEqual(message["sentDateTime"], "2012-10-19T19:22:49Z")
        self.assertFalse(message["isDraft"])
        self.assertFalse(message["isRead"])
        self.assertEqual(message["flag"], {"flagStatus": "notFlagged"})
        self.assertEqual(message["internetMessageId"], "<5081A889.3020108@jamehi03lx.noa.com>")
        self.assertIn(message["body"]["contentType"], ("html", "text"))
        self.assertLessEqual(len(message["bodyPreview"]), 255)
        headers_only = self.get(f"/me/messages/{self.inbox_ids()[subject]}?$select=internetMessageHeaders")
        self.assertIn({"name": "Message-ID", "value": "<5081A889.3020108@jamehi03lx.noa.com>"},
                      headers_only["internetMessageHeaders"])
        self.assert_error(self.graph("GET", "/me/messages/AAMkADdoesnotexist"), 400, "ErrorInvalidIdMalformed")

    def test_patch_flags_categories_and_extended_properties(self):
        message_id = self.inbox_ids()["Attachment"]
        before = self.get(f"/me/messages/{message_id}?$select=changeKey,lastModifiedDateTime")
        read = self.graph("PATCH", f"/me/messages/{message_id}", {"isRead": True}, expect=200)[2]
        self.assertTrue(read["isRead"])
        self.assertEqual(read["changeKey"], before["changeKey"], "graph-facts G7: read state keeps the etag")
        self.assertEqual(self.get("/me/mailFolders/inbox")["unreadItemCount"], 4)
        flagged = self.graph("PATCH", f"/me/messages/{message_id}",
                             {"flag": {"flagStatus": "flagged"}, "categories": ["Red category", "Project X"]},
                             expect=200)[2]
        self.assertNotEqual(flagged["changeKey"], before["changeKey"])
        self.assertEqual(flagged["flag"]["flagStatus"], "flagged")
        self.assertEqual(flagged["categories"], ["Red category", "Project X"])
        answered = self.graph("PATCH", f"/me/messages/{message_id}", {"singleValueExtendedProperties": [
            {"id": "Integer 0x1081", "value": "102"}, {"id": "Integer 0x01080", "value": "261"},
            {"id": "SystemTime 0x1082", "value": "2024-05-01T10:00:00.000Z"}]}, expect=200)[2]
        self.assertNotIn("singleValueExtendedProperties", answered)
        expand = urllib.parse.quote("singleValueExtendedProperties($filter=id eq 'Integer 0x1081' or "
                                    "id eq 'Integer 0x1080' or id eq 'Integer 0x0E07' or id eq 'LONG 0x0E23')")
        expanded = self.get(f"/me/messages/{message_id}?$select=id&$expand={expand}")
        self.assertEqual([(p["id"], p["value"]) for p in expanded["singleValueExtendedProperties"]],
                         [("Integer 0x1081", "102"), ("Integer 0x1080", "261"), ("Integer 0xe07", "17")])
        q = urllib.parse.quote
        by_property = self.get("/me/messages?$select=subject&$filter=" + q(
            "singleValueExtendedProperties/Any(ep: ep/id eq 'Integer 0x1081' and cast(ep/value, Edm.Int32) eq 102)"))
        self.assertEqual([m["subject"] for m in by_property["value"]], ["Attachment"])
        by_category = self.get("/me/messages?$select=subject&$filter=" + q("categories/any(c:c eq 'Project X')"))
        self.assertEqual([m["subject"] for m in by_category["value"]], ["Attachment"])
        flagged_list = self.get("/me/messages?$select=subject&$filter=" + q("flag/flagStatus eq 'flagged'"))
        self.assertEqual(len(flagged_list["value"]), 1)
        self.assert_error(self.graph("PATCH", f"/me/messages/{message_id}", {"flag": {"flagStatus": "sometimes"}}),
                          400, "RequestBodyRead")
        self.assert_error(self.graph("PATCH", f"/me/messages/{message_id}", {"subject": "edited"}), 400,
                          "ErrorInvalidPropertyUpdateSentMessage")

    def test_move_copy_delete_and_permanent_delete(self):
        ids = self.inbox_ids()
        regular = ids["Multipart Mixed"] if "Multipart Mixed" in ids else ids["Attachment"]
        moved = self.graph("POST", f"/me/messages/{regular}/move", {"destinationId": "archive"}, expect=201)[2]
        self.assertNotEqual(moved["id"], regular, "regular ids change on move")
        self.assertEqual(moved["parentFolderId"], self.get("/me/mailFolders/archive")["id"])
        self.assert_error(self.graph("GET", f"/me/messages/{regular}"), 404, "ErrorItemNotFound",
                          "The specified object was not found in the store.")

        immutable_ids = self.inbox_ids(headers=IMMUTABLE)
        immutable = immutable_ids["This is a test message"]
        moved = self.graph("POST", f"/me/messages/{immutable}/move", {"DestinationId": "JunkEmail"}, headers=IMMUTABLE,
                           expect=201)[2]
        self.assertEqual(moved["id"], immutable, "immutable ids survive moves")
        self.assertEqual(self.get(f"/me/messages/{immutable}", headers=IMMUTABLE)["subject"], "This is a test message")
        copied = self.graph("POST", f"/me/messages/{immutable}/copy", {"destinationId": "inbox"}, headers=IMMUTABLE,
                            expect=201)[2]
        self.assertNotEqual(copied["id"], immutable)
        self.assertEqual(copied["subject"], "This is a test message")
        self.assert_error(self.graph("POST", f"/me/messages/{immutable}/move", {"destinationId": "nowhere"},
                                     headers=IMMUTABLE), 400, "ErrorInvalidIdMalformed")

        status, headers, body = self.raw("DELETE", f"/me/messages/{copied['id']}", headers=IMMUTABLE)
        self.assertEqual(status, 204)
        self.assertEqual(body, b"")
        self.assertNotIn(copied["id"], self.inbox_ids(headers=IMMUTABLE).values())
        status, _, _ = self.raw("POST", f"/me/messages/{immutable}/permanentDelete", headers=IMMUTABLE)
        self.assertEqual(status, 204)
        self.assert_error(self.graph("GET", f"/me/messages/{immutable}", headers=IMMUTABLE), 404, "ErrorItemNotFound")

    def test_message_delta_pages_tombstones_and_expiry(self):
        prefer = {"Prefer": "odata.maxpagesize=2"}
        page = self.get("/me/mailFolders/inbox/messages/delta?$select=subject,isRead", headers=prefer)
        self.assertTrue(page["@odata.context"].endswith("$metadata#Collection(message)"))
        seen, pages = [], 0
        while True:
            pages += 1
            self.assertLessEqual(len(page["value"]), 2)
            seen += page["value"]
            if "@odata.deltaLink" in page:
                break
            self.assertIn("$skiptoken=", page["@odata.nextLink"])
            page = self.get(page["@odata.nextLink"], headers=prefer)
        self.assertEqual(len(seen), 5)
        self.assertEqual(pages, 3)
        self.assertEqual(set(seen[0]), {"@odata.type", "@odata.etag", "id", "subject", "isRead"})
        delta_link = page["@odata.deltaLink"]
        self.assertIn("$deltatoken=", delta_link)

        nothing_items, nothing = self.all_pages(delta_link)
        self.assertEqual(nothing_items, [])
        ids = self.inbox_ids()
        self.graph("POST", f"/me/messages/{ids['Attachment']}/move", {"destinationId": "archive"}, expect=201)
        self.graph("PATCH", f"/me/messages/{ids['MIME test 1']}", {"isRead": True}, expect=200)
        self.deliver("From: late@example.org\r\nSubject: late arrival\r\n\r\nhi\r\n")
        # The page size chosen on the first request stays with the links.
        items, changes = self.all_pages(nothing["@odata.deltaLink"])
        removed = [item for item in items if "@removed" in item]
        updated = {item["subject"]: item for item in items if "@removed" not in item}
        self.assertEqual(removed, [{"@odata.type": "#microsoft.graph.message", "id": ids["Attachment"],
                                    "@removed": {"reason": "deleted"}}])
        self.assertEqual(set(updated), {"MIME test 1", "late arrival"})
        self.assertTrue(updated["MIME test 1"]["isRead"])

        status, body = self.emulator.control("POST", f"/users/{OWNER}/expire-delta")
        self.assertEqual(status, 200, body)
        self.assert_error(self.graph("GET", changes["@odata.deltaLink"]), 410, "SyncStateNotFound")
        restarted = self.get("/me/mailFolders/inbox/messages/delta?$select=subject", headers={"Prefer": "odata.maxpagesize=50"})
        self.assertEqual(len(restarted["value"]), 5, "a fresh round lists what is there now")


class CreateAndSendTest(MailTestCase):
    def test_create_from_json_and_mime_follows_the_draft_rules(self):
        draft = self.graph("POST", "/me/messages", {
            "subject": "Draft", "body": {"contentType": "HTML", "content": "<p>hi</p>"},
            "toRecipients": [{"emailAddress": {"address": FRIEND}}]}, expect=201)[2]
        self.assertTrue(draft["isDraft"])
        self.assertTrue(draft["isRead"])
        self.assertEqual(draft["parentFolderId"], self.get("/me/mailFolders/drafts")["id"])
        self.assertEqual(draft["body"], {"contentType": "html", "content": "<p>hi</p>"})
        self.assertEqual(draft["from"]["emailAddress"]["address"], OWNER)
        status, _, mime = self.raw("GET", f"/me/messages/{draft['id']}/$value")
        self.assertEqual(status, 200)
        self.assertIn(b"Subject: Draft\r\n", mime)
        self.assertIn(b"X-MS-Has-Attach: \r\n", mime)
        self.graph("PATCH", f"/me/messages/{draft['id']}", {"isDraft": False}, expect=200)
        self.assertTrue(self.get(f"/me/messages/{draft['id']}")["isDraft"], "isDraft cannot change")

        imported = self.graph("POST", "/me/mailFolders/inbox/messages", {
            "subject": "Imported", "singleValueExtendedProperties": [{"id": "Integer 0x0E07", "value": "1"}]},
            expect=201)[2]
        self.assertFalse(imported["isDraft"])
        self.assertTrue(imported["isRead"])
        unread = self.graph("POST", "/me/mailFolders/inbox/messages", {
            "subject": "Imported unread", "singleValueExtendedProperties": [{"id": "Integer 0x0E07", "value": "0"}]},
            expect=201)[2]
        self.assertFalse(unread["isRead"])

        mime_text = (b"From: Alex Wilber <AlexW@contoso.com>\r\nTo: Megan Bowen <MeganB@contoso.com>\r\n"
                     b"Subject: Internal Resume Submission\r\nDate: Sun, 28 Feb 2021 07:15:00 +0000\r\n\r\nHi, Megan.\r\n")
        created = self.graph("POST", "/me/mailFolders/inbox/messages", base64.b64encode(mime_text).decode(),
                             headers={"Content-Type": "text/plain"}, expect=201)[2]
        self.assertTrue(created["isDraft"], "MIME creates are drafts (graph-facts B9)")
        self.assertTrue(created["isRead"])
        self.assertEqual(created["sentDateTime"], "2021-02-28T07:15:00Z")
        self.assertNotEqual(created["receivedDateTime"], created["sentDateTime"])
        self.assertIsNone(created["isDeliveryReceiptRequested"])
        self.assertEqual(self.raw("GET", f"/me/messages/{created['id']}/$value")[2], mime_text)
        self.assert_error(self.graph("POST", "/me/messages", "%%% not base64 %%%", headers={"Content-Type": "text/plain"}),
                          400, "ErrorMimeContentInvalidBase64String", "Invalid base64 string for MIME content.")

    def test_send_mail_json_and_mime_to_another_user(self):
        status, headers, body = self.raw("POST", "/me/sendMail", {
            "message": {"subject": "Meet for lunch?", "body": {"contentType": "Text", "content": "The new cafeteria is open."},
                        "toRecipients": [{"emailAddress": {"address": FRIEND}}],
                        "ccRecipients": [{"emailAddress": {"address": "danas@contoso.onmicrosoft.com"}}],
                        "bccRecipients": [{"emailAddress": {"address": "secret@example.net"}}],
                        "internetMessageHeaders": [{"name": "x-custom-header-group-name", "value": "Nevada"}],
                        "attachments": [{"@odata.type": "#microsoft.graph.fileAttachment", "name": "attachment.txt",
                                         "contentType": "text/plain", "contentBytes": "SGVsbG8gV29ybGQh"}]},
            "saveToSentItems": "true"})
        self.assertEqual(status, 202, body)
        self.assertEqual(body, b"")
        self.assertIsNone(headers.get("Content-Type"))
        received = self.get("/me/mailFolders/inbox/messages?$select=id,subject,isRead,hasAttachments,bccRecipients",
                            user=FRIEND)["value"]
        self.assertEqual([(m["subject"], m["isRead"], m["hasAttachments"], m["bccRecipients"]) for m in received],
                         [("Meet for lunch?", False, True, [])])
        delivered = self.raw("GET", f"/me/messages/{received[0]['id']}/$value", user=FRIEND)[2]
        self.assertIn(b"x-custom-header-group-name: Nevada", delivered)
        self.assertNotIn(b"secret@example.net", delivered, "Bcc is not handed to recipients")
        sent = self.get("/me/mailFolders/sentitems/messages?$select=subject,bccRecipients,isRead")["value"]
        self.assertEqual(sent[0]["subject"], "Meet for lunch?")
        self.assertEqual(sent[0]["bccRecipients"][0]["emailAddress"]["address"], "secret@example.net")

        status, records = self.emulator.control("GET", f"/users/{OWNER}/sent")
        self.assertEqual(status, 200)
        self.assertEqual(records[0]["recipients"], [FRIEND, "danas@contoso.onmicrosoft.com", "secret@example.net"])
        self.assertIn(b"Subject: Meet for lunch?", base64.b64decode(records[0]["mime_base64"]))

        status, _, _ = self.raw("POST", "/me/sendMail", {"message": {
            "subject": "not kept", "toRecipients": [{"emailAddress": {"address": FRIEND}}]}, "saveToSentItems": False})
        self.assertEqual(status, 202)
        self.assertEqual(self.get("/me/mailFolders/sentitems")["totalItemCount"], 1)

        mime_text = (f"From: {OWNER}\r\nTo: {FRIEND}\r\nBcc: hidden@example.org\r\nSubject: raw MIME\r\n"
                     f"Date: Mon, 01 Jan 2024 10:00:00 +0000\r\nMessage-ID: <raw@example.com>\r\n\r\nHello\r\n").encode()
        wrapped = base64.encodebytes(mime_text)  # 76-column lines, as in the documented sample
        status, _, body = self.raw("POST", "/me/sendMail", wrapped, headers={"Content-Type": "text/plain"})
        self.assertEqual(status, 202, body)
        status, records = self.emulator.control("GET", f"/users/{OWNER}/sent")
        self.assertEqual(records[-1]["recipients"], [FRIEND, "hidden@example.org"])
        self.assertEqual(base64.b64decode(records[-1]["mime_base64"]), mime_text)
        self.assertEqual(self.get("/me/mailFolders/sentitems")["totalItemCount"], 2)
        self.assertEqual(self.get("/me/mailFolders/inbox", user=FRIEND)["totalItemCount"], 3)
        self.assert_error(self.graph("POST", "/me/sendMail", {"message": {"subject": "to nobody"}}), 400,
                          "ErrorInvalidRecipients")

    def test_send_mail_over_four_megabytes_is_413(self):
        big = base64.b64encode(b"To: friend@example.com\r\nSubject: big\r\n\r\n" + b"x" * (3 * 1024 * 1024 + 200000))
        self.assertGreater(len(big), 4 * 1024 * 1024)
        self.assert_error(self.graph("POST", "/me/sendMail", big, headers={"Content-Type": "text/plain"}), 413,
                          "ErrorMessageSizeExceeded")
        self.assertEqual(self.emulator.control("GET", f"/users/{OWNER}/sent")[1], [])

    def test_upload_session_and_send_of_a_ten_megabyte_attachment(self):
        draft = self.graph("POST", "/me/messages", {
            "subject": "Big file", "body": {"contentType": "Text", "content": "see attachment"},
            "toRecipients": [{"emailAddress": {"address": FRIEND}}]}, headers=IMMUTABLE, expect=201)[2]
        payload = bytes((i * 31 + 7) % 256 for i in range(10 * 1024 * 1024))
        session = self.graph("POST", f"/me/messages/{draft['id']}/attachments/createUploadSession", {
            "AttachmentItem": {"attachmentType": "file", "name": "flower.bin", "size": len(payload)}},
            headers=IMMUTABLE, expect=201)[2]
        self.assertEqual(session["nextExpectedRanges"], ["0-"])
        self.assertTrue(session["@odata.context"].endswith("$metadata#microsoft.graph.uploadSession"))
        upload = urllib.parse.urlsplit(session["uploadUrl"])
        self.assertEqual(f"{upload.scheme}://{upload.netloc}", self.emulator.url)
        target = upload.path + "?" + upload.query
        chunk = 4 * 1024 * 1024
        offset = 0
        while offset < len(payload):
            piece = payload[offset:offset + chunk]
            # Pre-authenticated: no Authorization header (graph-facts B10).
            status, headers, body = self.emulator.request("PUT", target, piece, {
                "Content-Type": "application/octet-stream",
                "Content-Range": f"bytes {offset}-{offset + len(piece) - 1}/{len(payload)}"})
            offset += len(piece)
            if offset < len(payload):
                self.assertEqual(status, 200, body)
                self.assertEqual(json.loads(body)["NextExpectedRanges"], [str(offset)])
            else:
                self.assertEqual(status, 201, body)
                self.assertIn("/Attachments('", headers["Location"])
        attachments = self.get(f"/me/messages/{draft['id']}/attachments", headers=IMMUTABLE)["value"]
        self.assertEqual([(a["name"], a["size"]) for a in attachments], [("flower.bin", len(payload))])

        status, _, body = self.raw("POST", f"/me/messages/{draft['id']}/send", headers=IMMUTABLE)
        self.assertEqual(status, 202, body)
        sent_copy = self.get(f"/me/messages/{draft['id']}", headers=IMMUTABLE)
        self.assertFalse(sent_copy["isDraft"])
        self.assertEqual(sent_copy["parentFolderId"], self.get("/me/mailFolders/sentitems")["id"])
        inbox = self.get("/me/mailFolders/inbox/messages?$select=id,subject,hasAttachments", user=FRIEND)["value"]
        self.assertEqual([(m["subject"], m["hasAttachments"]) for m in inbox], [("Big file", True)])
        friend_copy = self.get(f"/me/messages/{inbox[0]['id']}/attachments", user=FRIEND)["value"]
        self.assertEqual(base64.b64decode(friend_copy[0]["contentBytes"]), payload)
        records = self.emulator.control("GET", f"/users/{OWNER}/sent")[1]
        self.assertEqual(records[0]["recipients"], [FRIEND])


if __name__ == "__main__":
    unittest.main()
