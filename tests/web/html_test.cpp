#include "mailtrixy/web/html.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace mailtrixy::web {
namespace {

TEST(Escape, ReplacesEveryCharacterThatMattersInContentAndAttributes) {
  EXPECT_EQ(escape(R"(<script>alert("x")</script> & 'y')"),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;");
  EXPECT_EQ(escape("plain text, ümlauts stay"), "plain text, ümlauts stay");
  EXPECT_EQ(escape(""), "");
}

TEST(Render, EscapesTextAndInsertsHtmlAsIs) {
  const Html page = render("<p title=\"{{title}}\">{{body}}</p>{{extra}}",
                           {{"title", "a\"b"}, {"body", "<b>bold?</b>"}, {"extra", Html::trusted("<hr>")}});
  EXPECT_EQ(page.str(), "<p title=\"a&quot;b\">&lt;b&gt;bold?&lt;/b&gt;</p><hr>");
}

TEST(Render, FillsRepeatedPlaceholders) {
  EXPECT_EQ(render("{{x}}-{{x}}", {{"x", "1"}}).str(), "1-1");
}

TEST(Render, ValuesAreNotReinterpretedAsTemplates) {
  EXPECT_EQ(render("{{a}}{{b}}", {{"a", "{{b}}"}, {"b", "x"}}).str(), "{{b}}x");
}

TEST(Render, MissingValueIsAProgrammingError) {
  EXPECT_THROW((void)render("{{missing}}", {}), std::logic_error);
}

TEST(Render, UnusedValueIsAProgrammingError) {
  EXPECT_THROW((void)render("nothing here", {{"spare", "x"}}), std::logic_error);
}

TEST(Render, UnterminatedPlaceholderIsAProgrammingError) {
  EXPECT_THROW((void)render("{{oops", {}), std::logic_error);
}

TEST(Text, EscapesIntoHtml) {
  Html combined = Html::trusted("<p>") + text("1 < 2") + Html::trusted("</p>");
  EXPECT_EQ(combined.str(), "<p>1 &lt; 2</p>");
}

}  // namespace
}  // namespace mailtrixy::web
