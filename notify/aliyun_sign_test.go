package notify

import (
	"net/http"
	"testing"
)

// The worked example of Alibaba Cloud's SMS documentation (HTTP协议及签名,
// document 56189), signed with GET.
func TestAliyunSignatureDocumentedSMSExample(t *testing.T) {
	params := map[string]string{
		"AccessKeyId":      "testId",
		"Action":           "SendSms",
		"Format":           "XML",
		"OutId":            "123",
		"PhoneNumbers":     "15300000001",
		"RegionId":         "cn-hangzhou",
		"SignName":         "阿里云短信测试专用",
		"SignatureMethod":  "HMAC-SHA1",
		"SignatureNonce":   "45e25e9b-0a6f-4070-8c85-2956eda1b466",
		"SignatureVersion": "1.0",
		"TemplateCode":     "SMS_71390007",
		"TemplateParam":    `{"customer":"test"}`,
		"Timestamp":        "2017-07-12T02:42:19Z",
		"Version":          "2017-05-25",
	}
	wantQuery := "AccessKeyId=testId&Action=SendSms&Format=XML&OutId=123&PhoneNumbers=15300000001&RegionId=cn-hangzhou" +
		"&SignName=%E9%98%BF%E9%87%8C%E4%BA%91%E7%9F%AD%E4%BF%A1%E6%B5%8B%E8%AF%95%E4%B8%93%E7%94%A8&SignatureMethod=HMAC-SHA1" +
		"&SignatureNonce=45e25e9b-0a6f-4070-8c85-2956eda1b466&SignatureVersion=1.0&TemplateCode=SMS_71390007" +
		"&TemplateParam=%7B%22customer%22%3A%22test%22%7D&Timestamp=2017-07-12T02%3A42%3A19Z&Version=2017-05-25"
	if got := aliyunCanonicalQuery(params); got != wantQuery {
		t.Errorf("canonical query:\n got %s\nwant %s", got, wantQuery)
	}
	if got := AliyunSignature(http.MethodGet, params, "testSecret"); got != "zJDF+Lrzhj/ThnlvIToysFRq6t4=" {
		t.Errorf("signature = %s, want zJDF+Lrzhj/ThnlvIToysFRq6t4=", got)
	}
	params["Signature"] = "ignored"
	if got := AliyunSignature(http.MethodGet, params, "testSecret"); got != "zJDF+Lrzhj/ThnlvIToysFRq6t4=" {
		t.Error("the Signature parameter entered its own signature")
	}
	if AliyunSignature(http.MethodPost, params, "testSecret") == "zJDF+Lrzhj/ThnlvIToysFRq6t4=" {
		t.Error("the method is not signed")
	}
}

// The worked example of Alibaba Cloud's RPC signature documentation
// (DescribeRegions).
func TestAliyunSignatureDocumentedRPCExample(t *testing.T) {
	params := map[string]string{
		"AccessKeyId":      "testid",
		"Action":           "DescribeRegions",
		"Format":           "XML",
		"SignatureMethod":  "HMAC-SHA1",
		"SignatureNonce":   "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
		"SignatureVersion": "1.0",
		"Timestamp":        "2016-02-23T12:46:24Z",
		"Version":          "2014-05-26",
	}
	if got := AliyunSignature(http.MethodGet, params, "testsecret"); got != "OLeaidS1JvxuMvnyHOwuJ+uX5qY=" {
		t.Errorf("signature = %s, want OLeaidS1JvxuMvnyHOwuJ+uX5qY=", got)
	}
}

func TestPercentEncode(t *testing.T) {
	for in, want := range map[string]string{
		"a b":  "a%20b",
		"*":    "%2A",
		"~-_.": "~-_.",
		"/=&+": "%2F%3D%26%2B",
		"派":    "%E6%B4%BE",
	} {
		if got := percentEncode(in); got != want {
			t.Errorf("percentEncode(%q) = %q, want %q", in, got, want)
		}
	}
}
