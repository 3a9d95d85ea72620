/* tests/normalize/test_words.c — abbreviations, all-caps words, Roman numerals, lists, URLs,
 * lines and punctuation. */
#include "tests/normalize/nz_test.h"

int main(void)
{
    nz_test_init();
    /* abbreviations: whole tokens, case-sensitive for all-caps, compounds */
    EXPECT("UBND xã", "Ủy ban nhân dân xã.");
    EXPECT("ubnd xã", "ubnd xã.");
    EXPECT("UBND-HĐND", "Ủy ban nhân dân Hội đồng nhân dân.");
    EXPECT("TT&TT", "Thông tin và Truyền thông.");
    EXPECT("KT-XH", "kinh tế - xã hội.");
    EXPECT("đ/c Lan", "đồng chí Lan.");
    EXPECT("Đ/c Lan", "đồng chí Lan.");
    EXPECT("UBNDX", "u bê nờ dê ích.");
    EXPECT("TP.HCM", "Thành phố Hồ Chí Minh.");
    EXPECT("CT UBND xã", "Chủ tịch Ủy ban nhân dân xã.");
    EXPECT("TT Phú Mỹ", "thị trấn Phú Mỹ.");
    EXPECT("quý III/2024", "quý ba năm hai nghìn không trăm hai mươi tư.");
    /* unknown all-caps: syllables stay, others are spelled */
    EXPECT("HỌP KHẨN", "họp khẩn.");
    EXPECT("BÃO SỐ 3", "bão số ba.");
    /* issue 20: letter+digit codes: letters spelled, digits one by one, the lexicon's ĐT
     * ("điện thoại") not expanded inside a code; road numbers keep their cardinal */
    EXPECT("giống ST25", "giống ét tê hai năm.");
    EXPECT("Giống lúa ĐT100", "Giống lúa đê tê một không không.");
    EXPECT("IR64 và OM5451", "i rờ sáu bốn và o mờ năm bốn năm một.");
    EXPECT("cúm H5N1", "cúm hát năm nờ một.");
    EXPECT("QL1A và QL14", "quốc lộ một a và quốc lộ mười bốn.");
    EXPECT("ĐT 0912 345 678", "điện thoại không chín một hai, ba bốn năm, sáu bảy tám.");
    /* issue 20: rural-administration abbreviations */
    EXPECT("Sở NN&PTNT, phòng PTNT", "Sở Nông nghiệp và Phát triển nông thôn, phòng phát triển "
                                     "nông thôn.");
    EXPECT("BCĐ, MTTQ, HTX, UBMTTQ", "Ban Chỉ đạo, Mặt trận Tổ quốc, hợp tác xã, Ủy ban Mặt trận "
                                      "Tổ quốc.");
    EXPECT("BHYT, BHXH, THCS, THPT", "bảo hiểm y tế, bảo hiểm xã hội, trung học cơ sở, trung học "
                                     "phổ thông.");
    EXPECT("GPMB, KT-XH, ATVSTP", "giải phóng mặt bằng, kinh tế - xã hội, an toàn vệ sinh thực "
                                  "phẩm.");
    EXPECT("Nguyễn Văn A", "Nguyễn Văn A.");
    /* Roman numerals only after a trigger */
    EXPECT("Đại hội XIII", "Đại hội mười ba.");
    EXPECT("khóa XV", "khóa mười lăm.");
    EXPECT("quý IV", "quý bốn.");
    EXPECT("thế kỷ XXI", "thế kỷ hai mươi mốt.");
    EXPECT("lần thứ XXV", "lần thứ hai mươi lăm.");
    EXPECT("lần thứ I", "lần thứ nhất.");
    EXPECT("đĩa CD", "đĩa xê dê.");
    EXPECT("khóa IIII", "khóa i i i i.");
    /* list markers and pauses */
    EXPECT("- Không đánh bắt", "Không đánh bắt.");
    EXPECT("+ Tuyên truyền", "Tuyên truyền.");
    EXPECT("• Kiểm tra", "Kiểm tra.");
    EXPECT("c) Hồ sơ", "xê, Hồ sơ.");
    EXPECT("đ) Nội dung", "đê, Nội dung.");
    EXPECT("1. Đối tượng", "một, Đối tượng.");
    EXPECT("II. Nội dung", "hai, Nội dung.");
    EXPECT("I - MỤC ĐÍCH", "một, mục đích.");
    EXPECT("III: Tổ chức", "ba, Tổ chức.");
    EXPECT("Dòng một\n\nDòng hai:", "Dòng một.\n\nDòng hai:");
    EXPECT("a – b", "a, b.");
    /* URLs and e-mail */
    EXPECT("trang cskh.npc.com.vn.", "trang xê ét ca hát chấm nờ pê xê chấm com chấm vê en.");
    EXPECT("https://dichvucong.gov.vn/", "dịch vụ công chấm gov chấm vê en.");
    EXPECT("Voso.vn", "vê o ét o chấm vê en.");
    EXPECT("ab@cd.vn", "a bê a còng xê dê chấm vê en.");
    EXPECT("www.abc-d.com/x_y", "vê kép vê kép vê kép chấm a bê xê gạch ngang dê chấm com gạch "
                                "chéo ích gạch dưới i.");
    /* symbols */
    EXPECT("A & B", "A và bê.");
    EXPECT("1 ha = 10.000 m2", "một héc ta bằng mười nghìn mét vuông.");
    nz_test_done();
    return check_done();
}
