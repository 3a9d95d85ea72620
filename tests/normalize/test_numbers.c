/* tests/normalize/test_numbers.c — numbers in words (READING.md "Numbers"). */
#include "tests/normalize/nz_test.h"

int main(void)
{
    nz_test_init();
    /* units, teens, tens: mốt, tư, lăm, linh */
    EXPECT("0", "không.");
    EXPECT("10", "mười.");
    EXPECT("11", "mười một.");
    EXPECT("14", "mười bốn.");
    EXPECT("15", "mười lăm.");
    EXPECT("20", "hai mươi.");
    EXPECT("21", "hai mươi mốt.");
    EXPECT("24", "hai mươi tư.");
    EXPECT("25", "hai mươi lăm.");
    EXPECT("104", "một trăm linh bốn.");
    EXPECT("105", "một trăm linh năm.");
    EXPECT("110", "một trăm mười.");
    EXPECT("115", "một trăm mười lăm.");
    /* inner groups keep "không trăm"; zero groups are silent */
    EXPECT("1000", "một nghìn.");
    EXPECT("1005", "một nghìn không trăm linh năm.");
    EXPECT("2023", "hai nghìn không trăm hai mươi ba.");
    EXPECT("2.050.000", "hai triệu không trăm năm mươi nghìn.");
    EXPECT("213.640.000", "hai trăm mười ba triệu sáu trăm bốn mươi nghìn.");
    EXPECT("1.000.000.000", "một tỷ.");
    EXPECT("1.000.000.000.000", "một nghìn tỷ.");
    EXPECT("1.500.000.000.000", "một nghìn năm trăm tỷ.");
    EXPECT("1.000.005", "một triệu không trăm linh năm.");
    EXPECT("2.000.000.021", "hai tỷ không trăm hai mươi mốt.");
    /* separators */
    EXPECT("1.350 tấn", "một nghìn ba trăm năm mươi tấn.");
    EXPECT("2,5", "hai phẩy năm.");
    EXPECT("3,08", "ba phẩy không tám.");
    EXPECT("96,75", "chín mươi sáu phẩy bảy mươi lăm.");
    EXPECT("0,4", "không phẩy bốn.");
    EXPECT("1.234,5", "một nghìn hai trăm ba mươi tư phẩy năm.");
    EXPECT("1,000,000", "một triệu.");
    EXPECT("4.0", "bốn chấm không.");
    EXPECT("2.25", "hai chấm hai mươi lăm.");
    /* leading zeros, ordinals, months */
    EXPECT("mã 05", "mã không năm.");
    EXPECT("thứ 1", "thứ nhất.");
    EXPECT("thứ 4", "thứ tư.");
    EXPECT("thứ 9", "thứ chín.");
    EXPECT("tháng 4", "tháng tư.");
    EXPECT("tháng 12", "tháng mười hai.");
    EXPECT("4 tháng", "bốn tháng.");
    EXPECT("năm 2025", "năm hai nghìn không trăm hai mươi lăm.");
    /* long runs are read digit by digit, never lost */
    EXPECT("12345678901234567890", "một hai ba bốn năm sáu bảy tám chín không một hai ba bốn năm "
                                   "sáu bảy tám chín không.");
    EXPECT("số tài khoản 1234567", "số tài khoản một hai ba bốn năm sáu bảy.");
    nz_test_done();
    return check_done();
}
